"""Benchmark: read_file throughput on generated seed-like articles. Prints figures, asserts none
of them (speed is not a test).

    cd /work/main && /work/venv/bin/python tests/data/ingest/bench_ingest.py [N]
"""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.ingest import read_file  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
SEEDS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]


def variants() -> Iterator[tuple[int, str]]:
    for i in range(N):  # distinct bodies, so nothing is shortcut by identical input
        yield i, SEEDS[i % len(SEEDS)] + f"\n\nVariant paragraph {i} for a distinct body."


def run(label: str, paths: list[Path], n_articles: int) -> None:
    start = time.perf_counter()
    got = sum(len(read_file(p)) for p in paths)
    elapsed = time.perf_counter() - start
    print(f"{label:28s} {got:6d} articles in {elapsed:6.2f} s = {got / elapsed:7.0f} articles/s"
          + ("" if got == n_articles else f"  (expected {n_articles})"))


def main() -> None:
    d = Path(tempfile.mkdtemp(prefix="dyad-bench-"))
    txt, html, moj, cp = [], [], [], []
    for i, body in variants():
        (p := d / f"a{i}.txt").write_text(body, encoding="utf-8")
        txt.append(p)
        paras = "".join(f"<p>{ln}</p>\n" for ln in body.split("\n") if ln.strip())
        page = (f'<html><head><title>T{i}</title><meta property="og:title" content="Story {i}">'
                '<meta property="article:published_time" content="2025-07-09">'
                "<script>var x=1;</script></head><body><header><nav><a>Home</a></nav></header>"
                f"<article><h1>Story {i}</h1>{paras}</article><footer>Contact us</footer>"
                "</body></html>")
        (p := d / f"h{i}.html").write_text(page, encoding="utf-8")
        html.append(p)
        (p := d / f"m{i}.txt").write_text(body.replace("Türkiye", "TÃ¼rkiye"), encoding="utf-8")
        moj.append(p)
        (p := d / f"c{i}.txt").write_bytes(body.encode("cp1254"))
        cp.append(p)
    (js := d / "all.json").write_text(json.dumps(
        [{"title": f"S{i}", "text": b, "date": "2025-07-09"} for i, b in variants()]))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["title", "body", "date"])
    writer.writerows([f"S{i}", b, "2025-07-09"] for i, b in variants())
    (cs := d / "all.csv").write_text(buf.getvalue(), encoding="utf-8")

    run("txt (one file each)", txt, N)
    run("html (one file each)", html, N)
    run("json (one list)", [js], N)
    run("csv (one file)", [cs], N)
    run("txt with mojibake (ftfy)", moj, N)
    run("txt in cp1254 (detection)", cp, N)


if __name__ == "__main__":
    main()
