"""build_dataset: the whole pipeline, from source paths to five validated frames.

ingest -> extract_entities -> resolve -> extract_events -> graph. Stages exchange
typed records (core.model); frames are made here, at the edge, through core.schemas.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from core import extract_entities, extract_events, graph, ingest, resolve, schemas, topics
from core.cache import Cache, code_fingerprint
from core.errors import ConfigError, DyadError, IngestError
from core.ids import stable_id
from core.model import AnnotatedDocument, Document

__version__ = "0.1.0"

# Below this many documents, starting worker processes costs more than it saves.
MIN_PARALLEL_DOCS = 40

# progress(done, total, stage) is called as work advances; stage names the step.
ProgressFn = Callable[[int, int, str], None]


@dataclass
class Dataset:
    """The five frames of the data contract, plus the build's errors and manifest."""

    documents: pd.DataFrame
    mentions: pd.DataFrame
    entities: pd.DataFrame
    events: pd.DataFrame
    edges: pd.DataFrame
    errors: list[dict[str, Any]] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in schemas.FRAMES}

    def counts(self) -> dict[str, int]:
        return {name: len(df) for name, df in self.frames().items()}


def _read_all(
    sources: Iterable[str | Path], errors: list[DyadError]
) -> tuple[list[Document], list[str]]:
    """Read every source file; documents with the same doc_id merge their sources."""
    by_id: dict[str, Document] = {}
    files: list[str] = []
    for item in ingest.iter_source_files(sources):
        if isinstance(item, DyadError):
            errors.append(item)
            continue
        files.append(str(item))
        try:
            docs, skipped = ingest.read_file_with_skips(item)
            errors.extend(skipped)  # bad items of a multi-article file; the good ones build
        except DyadError as exc:
            errors.append(exc)
            continue
        except Exception as exc:  # a bug must not sink the batch; report it for this file
            errors.append(IngestError(f"unexpected error: {type(exc).__name__}: {exc}", item))
            continue
        for doc in docs:
            known = by_id.get(doc.doc_id)
            if known is None:
                by_id[doc.doc_id] = doc
            else:
                known.sources.extend(s for s in doc.sources if s not in known.sources)
                # Keep the richer metadata when the copies differ.
                known.published = known.published or doc.published
                known.url = known.url or doc.url
    return list(by_id.values()), files


def _document_rows(docs: list[Document]) -> list[dict[str, Any]]:
    rows = []
    for d in docs:
        row = asdict(d)
        row[schemas.DOC.n_words] = len(d.text.split())
        row[schemas.DOC.topics] = topics.document_topics(f"{d.title}\n{d.text}")
        rows.append(row)
    return rows


def _annotate_chunk(docs: list[Document], backend: str) -> list[AnnotatedDocument | DyadError]:
    """Annotate documents (in a worker process when jobs > 1); errors come back as values."""
    out: list[AnnotatedDocument | DyadError] = []
    for doc in docs:
        try:
            ad = extract_entities.annotate(doc, backend)
            ad.parse = None  # backend objects stay in the worker; events re-derive what they need
            out.append(ad)
        except ConfigError:
            raise  # a wrong backend affects every document: stop at once
        except DyadError as exc:
            out.append(exc)
        except Exception as exc:  # a bug must not sink the batch; report it for this document
            out.append(DyadError(f"entity extraction failed: {type(exc).__name__}: {exc}",
                                 doc.source))
    return out


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _annotate_all(
    docs: list[Document],
    backend: str,
    jobs: int,
    store_cache: Cache | None,
    progress: ProgressFn | None,
) -> list[AnnotatedDocument | DyadError]:
    """annotate() every document, from the cache where it can, in parallel when jobs > 1."""
    results: dict[int, AnnotatedDocument | DyadError] = {}
    todo: list[int] = []
    keys: dict[int, str] = {}
    for i, doc in enumerate(docs):
        if store_cache is not None:
            keys[i] = stable_id(doc.doc_id, backend, code_fingerprint())
            hit = store_cache.get("annotate", keys[i])
            if hit is not None:
                sentences, mentions = hit
                results[i] = AnnotatedDocument(doc, sentences, mentions)
                continue
        todo.append(i)
    done = len(results)
    if progress:
        progress(done, len(docs), "entities")

    def collect(indices: list[int], chunk_out: list[AnnotatedDocument | DyadError]) -> None:
        nonlocal done
        for i, res in zip(indices, chunk_out, strict=True):
            results[i] = res
            if store_cache is not None and isinstance(res, AnnotatedDocument):
                store_cache.put("annotate", keys[i], (res.sentences, res.mentions))
        done += len(indices)
        if progress:
            progress(done, len(docs), "entities")

    batches = _chunks(todo, max(1, min(32, len(todo) // (jobs * 4) or 1)))
    if jobs <= 1 or len(todo) < MIN_PARALLEL_DOCS:
        for batch in batches:
            collect(batch, _annotate_chunk([docs[i] for i in batch], backend))
    else:
        ctx = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = [
                pool.submit(_annotate_chunk, [docs[i] for i in batch], backend)
                for batch in batches
            ]
            for batch, fut in zip(batches, futures, strict=True):
                collect(batch, fut.result())
    return [results[i] for i in range(len(docs))]


def build_dataset(
    sources: Iterable[str | Path],
    on_error: Literal["collect", "raise"] = "collect",
    backend: str = extract_entities.DEFAULT_BACKEND,
    progress: ProgressFn | None = None,
    jobs: int = 1,
    cache_dir: str | Path | None = None,
) -> Dataset:
    """Run the pipeline on files and folders (recursively) and return the Dataset.

    With ``on_error="collect"`` a bad file becomes an error record (file, reason)
    and the rest still builds; with ``"raise"`` the first DyadError is raised.
    ``jobs`` > 1 annotates documents in that many processes (same output as 1);
    ``cache_dir`` keeps per-document work so a rebuild redoes only new articles.
    """
    if on_error not in ("collect", "raise"):
        raise ConfigError(f"on_error must be 'collect' or 'raise', not {on_error!r}")
    if jobs < 1:
        raise ConfigError(f"jobs must be at least 1, not {jobs}")
    sources = [str(s) for s in sources]
    store_cache = Cache(cache_dir) if cache_dir is not None else None
    errors: list[DyadError] = []
    timings: dict[str, float] = {}

    def step(name: str, t0: float) -> float:
        t1 = time.perf_counter()
        timings[name] = round(t1 - t0, 4)
        return t1

    t = time.perf_counter()
    docs, files = _read_all(sources, errors)
    t = step("ingest", t)
    if on_error == "raise" and errors:
        raise errors[0]

    annotated: list[AnnotatedDocument] = []
    for res in _annotate_all(docs, backend, jobs, store_cache, progress):
        if isinstance(res, DyadError):
            if on_error == "raise":
                raise res
            errors.append(res)
        else:
            annotated.append(res)
    t = step("entities", t)

    entities = resolve.resolve(annotated)
    by_entity = {e.entity_id: e for e in entities}
    t = step("resolve", t)

    events = []
    for i, ad in enumerate(annotated):
        events.extend(extract_events.extract_events(ad, by_entity))
        if progress:
            progress(i + 1, len(annotated), "events")
    extract_events.cluster_events(events)
    t = step("events", t)

    edges = graph.build_edges(events, annotated)
    t = step("graph", t)

    mentions = [m for ad in annotated for m in ad.mentions if m.entity_id]
    ds = Dataset(
        documents=schemas.to_frame("documents", _document_rows([ad.document for ad in annotated])),
        mentions=schemas.to_frame("mentions", mentions),
        entities=schemas.to_frame("entities", entities),
        events=schemas.to_frame("events", events),
        edges=schemas.to_frame("edges", edges),
        errors=[e.to_record() for e in errors],
    )
    step("frames", t)
    ds.manifest = {
        "version": __version__,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": backend,
        "jobs": jobs,
        "sources": sources,
        "files": len(files),
        "counts": ds.counts(),
        "errors": ds.errors,
        "timings": timings,
        "cache": None if store_cache is None else {"hits": store_cache.hits,
                                                   "misses": store_cache.misses},
    }
    return ds
