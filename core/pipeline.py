"""build_dataset: the whole pipeline, from source paths to five validated frames.

ingest -> extract_entities -> resolve -> extract_events -> graph. Stages exchange
typed records (core.model); frames are made here, at the edge, through core.schemas.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import time
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from core import extract_entities, extract_events, graph, ingest, resolve, schemas, topics
from core.cache import Cache, code_fingerprint
from core.errors import ConfigError, DyadError, IngestError
from core.ids import stable_id
from core.model import COUNTRY, AnnotatedDocument, Document, Entity, Event

__version__ = "0.1.0"

log = logging.getLogger(__name__)

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


def _read_one(path: Path) -> tuple[list[Document], list[DyadError]]:
    """Read one source file: its documents, and the errors of its bad items (or of itself)."""
    try:
        docs, skipped = ingest.read_file_with_skips(path)
    except DyadError as exc:
        return [], [exc]
    except Exception as exc:  # a bug must not sink the batch; report it for this file
        return [], [IngestError(f"unexpected error: {type(exc).__name__}: {exc}", path)]
    # Skipped are the bad items of a multi-article file; the good ones build.
    return list(docs), list(skipped)


def _read_cached(store_cache: Cache, path: Path) -> tuple[list[Document], list[DyadError]]:
    """_read_one, kept per file by path, size and modification time (and Dyad's code)."""
    try:
        st = path.stat()
    except OSError:
        return _read_one(path)
    key = stable_id(path.resolve(), path, st.st_size, st.st_mtime_ns, code_fingerprint())
    hit = store_cache.get("ingest", key)
    if hit is not None:
        return hit, []
    docs, errs = _read_one(path)
    if not errs:  # errors are cheap to find again and must keep their file names
        store_cache.put("ingest", key, docs)
    return docs, errs


def _read_all(
    listed: Iterable[Path | DyadError],
    errors: list[DyadError],
    read: Callable[[Path], tuple[list[Document], list[DyadError]]] = _read_one,
) -> tuple[list[Document], list[str]]:
    """Read every listed file; documents with the same doc_id merge their sources.

    ``listed`` is what ingest.iter_source_files yields; ``read`` reads one file (the
    Dask engine passes the results its workers read, in the same order).
    """
    by_id: dict[str, Document] = {}
    files: list[str] = []
    for item in listed:
        if isinstance(item, DyadError):
            errors.append(item)
            continue
        files.append(str(item))
        docs, errs = read(item)
        errors.extend(errs)
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


def _document_rows(annotated: list[AnnotatedDocument]) -> list[dict[str, Any]]:
    rows = []
    for ad in annotated:
        row = asdict(ad.document)
        row[schemas.DOC.n_words] = len(ad.document.text.split())
        row[schemas.DOC.topics] = ad.topics
        rows.append(row)
    return rows


def _annotate_chunk(
    docs: list[Document], backend: str
) -> list[tuple[list, list, object, list[str]] | DyadError]:
    """Annotate documents (in a worker process when jobs > 1); errors come back as values.

    Each result is (sentences, mentions, parse, document topics): the per-document work
    that the cache keeps.
    """
    out: list[tuple[list, list, object, list[str]] | DyadError] = []
    for doc in docs:
        try:
            ad = extract_entities.annotate(doc, backend)
        except ConfigError:
            raise  # a wrong backend affects every document: stop at once
        except DyadError as exc:
            out.append(exc)
            continue
        except Exception as exc:  # a bug must not sink the batch; report it for this document
            out.append(DyadError(f"entity extraction failed: {type(exc).__name__}: {exc}",
                                 doc.source))
            continue
        # A tokens-only parse (rules backend) tells events nothing: don't ship it around.
        parse = ad.parse if _has_dependencies(ad.parse) else None
        out.append((ad.sentences, ad.mentions, parse,
                    topics.document_topics(f"{doc.title}\n{doc.text}")))
    return out


def _events_chunk(
    items: list[tuple[AnnotatedDocument, Mapping[str, Entity]]],
) -> list[list[Event]]:
    return [extract_events.extract_events(ad, entities) for ad, entities in items]


def _has_dependencies(parse: object) -> bool:
    has = getattr(parse, "has_annotation", None)
    return bool(has and has("DEP"))


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class _Pool:
    """Worker processes, started only when a stage has enough work to be worth it."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._executor: ProcessPoolExecutor | None = None
        self.broken = False

    def submit_all(self, fn: Callable[[list], list], chunks: list[list]) -> list[Future] | None:
        if self.broken:
            return None
        try:
            if self._executor is None:
                ctx = multiprocessing.get_context("forkserver")
                self._executor = ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx)
            return [self._executor.submit(fn, chunk) for chunk in chunks]
        except (BrokenProcessPool, OSError) as exc:
            log.warning("cannot use worker processes (%s); working in this process", exc)
            self.broken = True
            return None

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)


def _run_stage(
    stage: str,
    fn: Callable[[list], list],
    inputs: list,
    keys: list[str] | None,
    store_cache: Cache | None,
    pool: _Pool | None,
    jobs: int,
    progress: ProgressFn | None,
) -> list:
    """Map ``fn`` over inputs in chunks: from the cache where it can, in the pool if any.

    ``fn`` takes a list of inputs and returns one result per input; results that are
    DyadErrors are not cached. Order is kept, so output never depends on ``jobs``.
    """
    results: list = [None] * len(inputs)
    todo: list[int] = []
    for i in range(len(inputs)):
        hit = store_cache.get(stage, keys[i]) if store_cache and keys else None
        if hit is not None:
            results[i] = hit
        else:
            todo.append(i)
    done = len(inputs) - len(todo)
    if progress:
        progress(done, len(inputs), stage)
    batches = _chunks(todo, max(1, min(32, len(todo) // (jobs * 4) or 1)))

    def run(batch: list[int], future: Future | None) -> list:
        if future is not None:
            try:
                return future.result()
            except BrokenProcessPool:  # a worker died (killed, out of memory): do it here
                if not pool.broken:
                    log.warning("a worker process died; %s continues in this process", stage)
                pool.broken = True
        return fn([inputs[i] for i in batch])

    chunks = [[inputs[i] for i in b] for b in batches]
    futures = pool.submit_all(fn, chunks) if pool and len(todo) >= MIN_PARALLEL_DOCS else None
    futures = futures or [None] * len(batches)
    for batch, future in zip(batches, futures, strict=True):
        out = run(batch, future)
        for i, res in zip(batch, out, strict=True):
            results[i] = res
            if store_cache and keys and not isinstance(res, DyadError):
                store_cache.put(stage, keys[i], res)
        done += len(batch)
        if progress:
            progress(done, len(inputs), stage)
    return results


def _entities_for(ad: AnnotatedDocument, entities: dict[str, Entity],
                  countries: dict[str, Entity]) -> Mapping[str, Entity]:
    """What event extraction reads of the entities: the document's own, and every country.

    A view over one shared countries dict: a copy per document costs memory in big builds.
    """
    own = {m.entity_id: entities[m.entity_id] for m in ad.mentions if m.entity_id in entities}
    return ChainMap(own, countries)


def _events_key(ad: AnnotatedDocument, subset: Mapping[str, Entity], backend: str) -> str:
    mentions = [(m.start, m.end, m.entity_id) for m in ad.mentions]
    # Everything of an entity that event extraction reads (type, country, name, roles).
    ents = sorted((e.entity_id, e.type, e.country, e.name, tuple(e.roles))
                  for e in subset.values())
    return stable_id(ad.document.doc_id, ad.document.published, backend, code_fingerprint(),
                     mentions, ents)


def _attach_annotations(
    docs: list[Document], outs: list, errors: list[DyadError], on_error: str
) -> list[AnnotatedDocument]:
    """Pair each document with its annotation result; a failed one becomes an error."""
    annotated: list[AnnotatedDocument] = []
    for doc, res in zip(docs, outs, strict=True):
        if isinstance(res, DyadError):
            if on_error == "raise":
                raise res
            errors.append(res)
        else:
            annotated.append(AnnotatedDocument(doc, *res))
    return annotated


def _event_inputs(
    annotated: list[AnnotatedDocument], entities: list[Entity]
) -> list[tuple[AnnotatedDocument, Mapping[str, Entity]]]:
    """Each resolved document with the entities its event extraction reads."""
    by_entity = {e.entity_id: e for e in entities}
    countries = {e.entity_id: e for e in entities if e.type == COUNTRY}
    return [(ad, _entities_for(ad, by_entity, countries)) for ad in annotated]


def _finish(
    annotated: list[AnnotatedDocument],
    entities: list[Entity],
    per_doc: list[list[Event]],
    errors: list[DyadError],
    timings: dict[str, float],
    manifest: dict[str, Any],
) -> Dataset:
    """The collection-wide end of a build: cluster events, edges, frames and manifest.

    ``manifest`` holds the engine's own entries; counts, errors and timings are added here.
    """
    t = time.perf_counter()
    events = [ev for evs in per_doc for ev in evs]
    extract_events.cluster_events(events)
    t = _step(timings, "cluster", t)

    edges = graph.build_edges(events, annotated)
    t = _step(timings, "graph", t)

    # Each kind of record is let go as soon as its frame exists, so a large build
    # never holds every record and every frame at once (the inputs are used up).
    documents = schemas.to_frame("documents", _document_rows(annotated))
    mentions = [m for ad in annotated for m in ad.mentions if m.entity_id]
    for ad in annotated:
        ad.mentions, ad.sentences, ad.parse = [], [], None
    mentions_frame = schemas.to_frame("mentions", mentions)
    del mentions
    per_doc.clear()
    events_frame = schemas.to_frame("events", events)
    del events
    ds = Dataset(
        documents=documents,
        mentions=mentions_frame,
        entities=schemas.to_frame("entities", entities),
        events=events_frame,
        edges=schemas.to_frame("edges", edges),
        errors=[e.to_record() for e in errors],
    )
    _step(timings, "frames", t)
    ds.manifest = {
        "version": __version__,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **manifest,
        "counts": ds.counts(),
        "errors": ds.errors,
        "timings": timings,
    }
    return ds


def _step(timings: dict[str, float], name: str, t0: float) -> float:
    """Record the seconds since ``t0`` under ``name``; returns now, the next step's start."""
    t1 = time.perf_counter()
    timings[name] = round(t1 - t0, 4)
    return t1


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

    t = time.perf_counter()
    read = _read_one if store_cache is None else functools.partial(_read_cached, store_cache)
    docs, files = _read_all(ingest.iter_source_files(sources), errors, read)
    t = _step(timings, "ingest", t)
    if on_error == "raise" and errors:
        raise errors[0]

    pool = _Pool(jobs) if jobs > 1 else None
    try:
        keys = [stable_id(d.doc_id, backend, code_fingerprint()) for d in docs]
        outs = _run_stage("entities", functools.partial(_annotate_chunk, backend=backend),
                          docs, keys, store_cache, pool, jobs, progress)
        annotated = _attach_annotations(docs, outs, errors, on_error)
        t = _step(timings, "entities", t)

        entities = resolve.resolve(annotated)
        t = _step(timings, "resolve", t)

        items = _event_inputs(annotated, entities)
        keys = [_events_key(ad, subset, backend) for ad, subset in items]
        per_doc = _run_stage("events", _events_chunk, items, keys, store_cache, pool, jobs,
                             progress)
    finally:
        if pool is not None:
            pool.shutdown()
    _step(timings, "events", t)

    return _finish(annotated, entities, per_doc, errors, timings, {
        "backend": backend,
        "jobs": jobs,
        "sources": sources,
        "files": len(files),
        "cache": None if store_cache is None else store_cache.stats,
    })
