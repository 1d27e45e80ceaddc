# Dyad for a team: one shared, read-mostly instance.
# docker build -t dyad . && docker run -p 8501:8501 -v dyad-data:/data dyad
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 10001 dyad
WORKDIR /app

# Dependencies are pinned by pyproject.toml.
COPY pyproject.toml README.md LICENSE ./
COPY core ./core
COPY dashboard ./dashboard
COPY seeds ./seeds
COPY .streamlit ./.streamlit
RUN pip install ".[auth]" && mkdir -p /data && chown dyad:dyad /data

USER dyad
# The samples are built at image build time so the first start is instant.
RUN python -m core build seeds --out /app/.dyad/seeds-store --jobs 1 --no-cache

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"

# A store on a fresh volume (DYAD_DATA) starts as the samples; later uploads add to it.
CMD ["sh", "-c", "if [ -n \"$DYAD_DATA\" ] && [ ! -e \"$DYAD_DATA/current\" ]; then python -m core build seeds --out \"$DYAD_DATA\" --jobs 1 --no-cache; fi; exec streamlit run dashboard/app.py --server.address=0.0.0.0 --server.port=8501"]
