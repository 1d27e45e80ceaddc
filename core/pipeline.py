"""build_dataset: the whole pipeline, from source paths to five validated frames.

ingest -> extract_entities -> resolve -> extract_events -> graph. Per document, stages
exchange typed records (core.model); across the collection, work is done on frames.

A build streams: the main process keeps of each document only its row in the
resolution table (core.resolve.TABLE_COLUMNS) and its events as frame rows, never its
annotation, which goes to the per-document cache and is read back by whichever process
extracts the document's events. With a cache folder, a build also leaves a *snapshot*
there (core.snapshot); the next build reuses the annotation, resolution rows and
events of every document whose inputs did not change, so one new article costs one
article's work plus the collection-wide steps, which are column-wise.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import logging
import multiprocessing
import tempfile
import time
import uuid
from collections import ChainMap, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from core import extract_entities, extract_events, graph, ingest, resolve, schemas, topics
from core.ahead import RARE_GC, Ahead
from core.cache import Cache, code_fingerprint
from core.errors import ConfigError, DyadError, IngestError
from core.ids import stable_id
from core.model import COUNTRY, AnnotatedDocument, Document, Entity, Event
from core.snapshot import FileKey, Snapshot, file_key

__version__ = "0.1.0"

log = logging.getLogger(__name__)

# Below this many documents, starting worker processes costs more than it saves.
MIN_PARALLEL_DOCS = 40

# A rebuild patches the earlier edges when at most this share of documents changed
# (else it computes them anew, which is then as fast).
PATCH_SHARE = 0.25

# Rows gathered in Python lists before they become a DataFrame piece.
_PIECE_ROWS = 50_000

# progress(done, total, stage) is called as work advances; stage names the step.
ProgressFn = Callable[[int, int, str], None]
# on_frame(name, frame, kept) is called with each frame of the Dataset as soon as it is
# made; kept, if not None, is (build id, document ids): the frame's rows of those
# documents are the ones the build with that id (manifest "build_id") made.
FrameFn = Callable[[str, pd.DataFrame, "tuple[str, set[str]] | None"], None]

# The resolution table kept per mention: what resolve needs, plus the mentions frame.
TABLE = (*resolve.TABLE_COLUMNS, "mention_id", "start", "end", "sentence_id")
_MEN = schemas.MEN


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


# ------------------------------------------------------------------------- reading


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


def _read_all(
    listed: Iterable[Path | DyadError],
    errors: list[DyadError],
    read: Callable[[Path], tuple[list[Document], list[DyadError]]] = _read_one,
) -> tuple[list[Document], list[str]]:
    """Read every listed file; documents with the same doc_id merge their sources.

    ``listed`` is what ingest.iter_source_files yields; ``read`` reads one file (the
    Dask engine passes the results its workers read, in the same order). The
    documents ``read`` returns are not changed: a merge works on a copy.
    """
    by_id: dict[str, Document] = {}
    merged: set[str] = set()
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
                continue
            if doc.doc_id not in merged:
                known = by_id[doc.doc_id] = dataclasses.replace(
                    known, sources=list(known.sources))
                merged.add(doc.doc_id)
            known.sources.extend(s for s in doc.sources if s not in known.sources)
            # Keep the richer metadata when the copies differ.
            known.published = known.published or doc.published
            known.url = known.url or doc.url
    return list(by_id.values()), files


# ------------------------------------------------------------- per-document work


def annotation_key(doc_id: str, backend: str) -> str:
    """Cache key of a document's annotation: its content (doc_id), backend and Dyad's code."""
    return stable_id(doc_id, backend, code_fingerprint())


def _annotate(doc: Document, backend: str) -> tuple:
    """(sentences, mentions, parse, document topics, local resolution) of one document."""
    ad = extract_entities.annotate(doc, backend)
    local = resolve.resolve_local(ad)  # sorts the mentions and gives them their ids
    # A tokens-only parse (rules backend) tells events nothing: don't ship it around.
    parse = ad.parse if _has_dependencies(ad.parse) else None
    return (ad.sentences, ad.mentions, parse, topics.document_topics(f"{doc.title}\n{doc.text}"),
            local)


def annotate_safely(doc: Document, backend: str) -> tuple | DyadError:
    """_annotate, with a document's failure returned as a DyadError naming its source."""
    try:
        return _annotate(doc, backend)
    except ConfigError:
        raise  # a wrong backend affects every document: stop at once
    except DyadError as exc:
        return exc
    except Exception as exc:  # a bug must not sink the batch; report it for this document
        return DyadError(f"entity extraction failed: {type(exc).__name__}: {exc}", doc.source)


@dataclass(slots=True)
class Compact:
    """What the main process keeps of a document's annotation (see Collected)."""

    rows: dict[str, list]  # resolution-table columns (TABLE)
    contributions: dict[str, list]  # acronyms and full names it tells other documents
    topics: list[str]
    n_words: int


def compact(doc: Document, res: tuple) -> Compact:
    _, mentions, _, doc_topics, local = res
    return Compact(table_rows(doc.doc_id, mentions, local),
                   contribution_rows(doc.doc_id, local), list(doc_topics),
                   len(doc.text.split()))


def _annotate_chunk(
    docs: list[Document], backend: str, cache_dir: str
) -> list[tuple[Compact | DyadError, bool]]:
    """Annotate documents (in a worker process when jobs > 1): (compact result, cache hit).

    The whole annotation goes to the per-document cache, where event extraction reads
    it back; only its compact part travels back to the main process.
    """
    store_cache = Cache(cache_dir)
    out: list[tuple[Compact | DyadError, bool]] = []
    for doc in docs:
        key = annotation_key(doc.doc_id, backend)
        res = store_cache.get("entities", key)
        hit = res is not None
        if res is None:
            res = annotate_safely(doc, backend)
            if not isinstance(res, DyadError):
                store_cache.put("entities", key, res)
        out.append((res if isinstance(res, DyadError) else compact(doc, res), hit))
    return out


@dataclass(slots=True)
class EventTask:
    """What extracting one document's events needs besides its annotation."""

    document: Document
    entity_of: dict[str, str]  # mention_id -> entity_id (unresolved mentions are absent)
    entities: Mapping[str, Entity]  # the document's own entities, and every country
    annotation: tuple | None = None  # _annotate's result, when not read from the cache


def _events_chunk(tasks: list[EventTask], cache_dir: str | None, backend: str) -> list[list[Event]]:
    """Events of documents, their annotation read back from the cache (or redone)."""
    store_cache = Cache(cache_dir) if cache_dir is not None else None
    out = []
    for task in tasks:
        doc = task.document
        res = task.annotation
        if res is None and store_cache is not None:
            res = store_cache.get("entities", annotation_key(doc.doc_id, backend))
        sentences, mentions, parse, doc_topics, _ = res or _annotate(doc, backend)
        kept = []
        for m in mentions:
            m.entity_id = task.entity_of.get(m.mention_id or "")
            if m.entity_id is not None:
                kept.append(m)
        ad = AnnotatedDocument(doc, sentences, kept, parse, doc_topics)
        out.append(extract_events.extract_events(ad, task.entities))
    return out


def _has_dependencies(parse: object) -> bool:
    has = getattr(parse, "has_annotation", None)
    return bool(has and has("DEP"))


class _Pool:
    """Worker processes, started only when a stage has enough work to be worth it."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._executor: ProcessPoolExecutor | None = None
        self.broken = False

    def submit(self, fn: Callable[[list], list], chunk: list) -> Future | None:
        """``fn(chunk)`` in a worker, or None when there are no workers to be had."""
        if self.broken:
            return None
        try:
            if self._executor is None:
                ctx = multiprocessing.get_context("forkserver")
                self._executor = ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx,
                                                     initializer=worker_init)
            return self._executor.submit(fn, chunk)
        except (BrokenProcessPool, OSError) as exc:
            log.warning("cannot use worker processes (%s); working in this process", exc)
            self.broken = True
            return None

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None


def _ahead_stage(ahead: Ahead | None, stage: str, fn: Callable[[list], list], inputs: list,
                 progress: ProgressFn | None, prepare: Callable[[list], list] | None = None
                 ) -> list | None:
    """``fn`` of a few inputs, run by the readied process (core.ahead); None when there
    is none, the inputs are many or none, or it failed: then the caller runs the stage."""
    if ahead is None or not 0 < len(inputs) < MIN_PARALLEL_DOCS:
        return None
    done = ahead.call(fn, prepare(inputs) if prepare else inputs)
    if done is not None and progress:
        progress(len(inputs), len(inputs), stage)
    return done


def _run_stage(
    stage: str,
    fn: Callable[[list], list],
    inputs: list,
    pool: _Pool | None,
    jobs: int,
    progress: ProgressFn | None,
    prepare: Callable[[list], list] | None = None,
) -> Iterator[tuple[int, Any]]:
    """Map ``fn`` over inputs in chunks, yielding (index, result) in input order.

    Chunks run in the pool if any (and the stage is big enough), else in this process.
    At most a few chunks per worker are in flight and results are yielded as they come,
    so neither the inputs ``prepare`` makes of a chunk nor the results pile up in memory.
    """
    prepare = prepare or (lambda chunk: chunk)
    size = max(1, min(32, len(inputs) // (jobs * 4) or 1))
    batches = deque(range(i, min(i + size, len(inputs))) for i in range(0, len(inputs), size))
    use_pool = pool is not None and len(inputs) >= MIN_PARALLEL_DOCS
    in_flight: deque[tuple[range, Future | None]] = deque()

    def submit() -> None:
        batch = batches.popleft()
        future = pool.submit(fn, prepare([inputs[i] for i in batch])) if use_pool else None
        in_flight.append((batch, future))

    def run(batch: range, future: Future | None) -> list:
        if future is not None:
            try:
                return future.result()
            except BrokenProcessPool:  # a worker died (killed, out of memory): do it here
                if not pool.broken:
                    log.warning("a worker process died; %s continues in this process", stage)
                pool.broken = True
        return fn(prepare([inputs[i] for i in batch]))

    if progress:
        progress(0, len(inputs), stage)
    done = 0
    window = 3 * jobs if use_pool else 1
    while batches or in_flight:
        while batches and len(in_flight) < window:
            submit()
        batch, future = in_flight.popleft()
        yield from zip(batch, run(batch, future), strict=True)
        done += len(batch)
        if progress:
            progress(done, len(inputs), stage)


class _Rows:
    """Column lists that become DataFrame pieces every _PIECE_ROWS rows."""

    def __init__(self, columns: Iterable[str], dates: Iterable[str] = ()) -> None:
        self.columns = list(columns)
        self.dates = list(dates)  # columns of datetime.date: made datetime64 per piece
        self._lists: dict[str, list] = {c: [] for c in self.columns}
        self._pieces: list[pd.DataFrame] = []

    def add(self, values: Mapping[str, list]) -> None:
        for c in self.columns:
            self._lists[c].extend(values[c])
        if len(self._lists[self.columns[0]]) >= _PIECE_ROWS:
            self._flush()

    def add_records(self, records: Iterable[Any]) -> None:
        for r in records:
            for c in self.columns:
                self._lists[c].append(getattr(r, c))
        if len(self._lists[self.columns[0]]) >= _PIECE_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._lists[self.columns[0]]:
            piece = pd.DataFrame(self._lists, columns=self.columns)
            for c in self.dates:
                piece[c] = pd.to_datetime(piece[c]).astype("datetime64[ns]")
            self._pieces.append(piece)
            self._lists = {c: [] for c in self.columns}

    def frame(self, *before: pd.DataFrame) -> pd.DataFrame:
        """All rows as one frame, after the rows of ``before`` (earlier builds' rows)."""
        self._flush()
        pieces = [p for p in (*before, *self._pieces) if len(p)]
        self._pieces = []
        if not pieces:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in self.columns})
        return pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]


def _in_doc_order(df: pd.DataFrame, order: Mapping[str, int], within: str | None) -> pd.DataFrame:
    """Rows sorted by their document's place in the build (then ``within``), stably.

    A frame already in that order (a build without reused rows) is returned as it is.
    """
    doc = schemas.map_values(df["doc_id"], order, -1, np.int64)
    ordered = bool(np.all(doc[:-1] <= doc[1:]))
    if within is None:
        if ordered:
            return df.reset_index(drop=True)
        return schemas.take_rows(df, np.argsort(doc, kind="stable"))
    inner = df[within].to_numpy()
    if ordered and _sorted_within(doc, inner):
        return df.reset_index(drop=True)
    return schemas.take_rows(df, np.lexsort((inner, doc)))


def _sorted_within(doc: np.ndarray, within: np.ndarray) -> bool:
    """Whether ``within`` increases inside each run of equal ``doc``."""
    same = doc[1:] == doc[:-1]
    return bool(np.all(within[1:][same] >= within[:-1][same]))


def events_rows(docs: list[Document], per_doc: Iterable[list[Event]],
                reused: pd.DataFrame | None = None) -> pd.DataFrame:
    """The events rows of every document, in the order of ``docs``: those extracted now
    (``per_doc``, any order of documents) and those reused from an earlier build."""
    rows = _Rows(schemas.COLUMNS["events"], schemas.DATE_COLUMNS["events"])
    for evs in per_doc:
        rows.add_records(evs)
    frame = rows.frame() if reused is None else rows.frame(reused)
    return _in_doc_order(frame, {d.doc_id: i for i, d in enumerate(docs)}, None)


def _step(timings: dict[str, float], name: str, t0: float) -> float:
    """Record the seconds since ``t0`` under ``name``; returns now, the next step's start."""
    t1 = time.perf_counter()
    timings[name] = round(t1 - t0, 4)
    return t1


# ------------------------------------------------------------- collection-wide work


def _entity_signatures(entities: list[Entity]) -> dict[str, str]:
    """Per entity, a hash of everything event extraction reads of it.

    Of its roles, extraction asks only whether it holds one (in lower case), so their
    order, which the first document to name each sets, is left out.
    """
    return {e.entity_id: stable_id(e.entity_id, e.type, e.country, e.name,
                                   sorted({r.lower() for r in e.roles})) for e in entities}


def events_signatures(
    docs: list[Document], table: pd.DataFrame, entities: list[Entity], backend: str
) -> dict[str, str]:
    """Per document, a key of every input of its event extraction.

    Its content and publication date, the backend and Dyad's code, which entity each
    of its mentions resolved to and what event extraction reads of those entities, and
    the countries (every document may name a country's officials). Column-wise: one
    number per mention row, summed per document.
    """
    sigs = _entity_signatures(entities)
    countries = sorted((e.country, e.entity_id, sigs[e.entity_id]) for e in entities
                       if e.type == COUNTRY and e.country)
    shared = stable_id(backend, code_fingerprint(), countries)
    named = table["entity_id"].notna().to_numpy()
    # Which entity (by its signature) each mention position resolved to, as one number
    # per document: a 64-bit hash of the signature times an odd number made of the
    # position, summed modulo 2**64 (any single change changes the sum).
    weights = {eid: int(sig, 16) for eid, sig in sigs.items()}
    ent = schemas.map_values(table["entity_id"], weights, 0, np.uint64)
    odd = 2 * table["pos"].to_numpy(dtype=np.uint64) + np.uint64(1)
    per_row = np.where(named, ent * odd, np.uint64(0))
    codes, uniques = pd.factorize(table["doc_id"])
    sums = dict(zip(uniques, _sum_by(codes, per_row, len(uniques)), strict=True))
    return {d.doc_id: stable_id(d.doc_id, d.published, shared, sums.get(d.doc_id, 0))
            for d in docs}


def _sum_by(codes: np.ndarray, values: np.ndarray, n: int) -> list[int]:
    """Sums of ``values`` per code (0..n-1), modulo 2**64."""
    out = np.zeros(n, dtype=np.uint64)
    np.add.at(out, codes, values)
    return out.tolist()


class EventTasks:
    """Makes the EventTask of documents, a chunk at a time (they are large: one dict
    per document of its mentions' entities)."""

    def __init__(self, docs: list[Document], table: pd.DataFrame,
                 entities: list[Entity]) -> None:
        self.by_id = {e.entity_id: e for e in entities}
        self.countries = {e.entity_id: e for e in entities if e.type == COUNTRY}
        named = schemas.rows_where(table, table["entity_id"].notna(),
                                   ["doc_id", "mention_id", "entity_id"])
        self.mention_ids, self.entity_ids = named["mention_id"], named["entity_id"]
        # The table is in document order: each document's rows are one run of them.
        codes = schemas.map_values(named["doc_id"], {d.doc_id: i for i, d in enumerate(docs)},
                                   -1, np.int64)
        bounds = np.searchsorted(codes, np.arange(len(docs) + 1))
        self.rows = {d.doc_id: (int(bounds[i]), int(bounds[i + 1]))
                     for i, d in enumerate(docs)}

    def __call__(self, docs: list[Document]) -> list[EventTask]:
        tasks = []
        for d in docs:
            a, b = self.rows[d.doc_id]
            mapping = dict(zip(self.mention_ids.iloc[a:b].tolist(),
                               self.entity_ids.iloc[a:b].tolist(), strict=True))
            # A view over one shared countries dict: a copy per document costs memory.
            own = {eid: self.by_id[eid] for eid in set(mapping.values()) if eid in self.by_id}
            tasks.append(EventTask(d, mapping, ChainMap(own, self.countries)))
        return tasks


def _documents_frame(docs: list[Document], info: Mapping[str, tuple[list[str], int]],
                     reused: set[str] = frozenset()) -> pd.DataFrame:
    """The documents frame; the rows of ``reused`` documents (read, checked and kept by
    an earlier build) are not checked again cell by cell."""
    D = schemas.DOC
    cols: dict[str, list] = {c: [] for c in schemas.COLUMNS["documents"]}
    for d in docs:
        doc_topics, n_words = info[d.doc_id]
        cols[D.doc_id].append(d.doc_id)
        cols[D.source].append(d.source)
        cols[D.sources].append(list(d.sources))
        cols[D.title].append(d.title)
        cols[D.published].append(d.published)
        cols[D.url].append(d.url)
        cols[D.format].append(d.format)
        cols[D.text].append(d.text)
        cols[D.n_words].append(n_words)
        cols[D.topics].append(list(doc_topics))
    if not docs:
        return schemas.empty_frame("documents")
    trusted = np.fromiter((d in reused for d in cols[D.doc_id]), bool, len(docs)) \
        if reused else None
    return schemas.validate("documents", pd.DataFrame(cols), trusted)


def assemble(
    docs: list[Document],
    info: Mapping[str, tuple[list[str], int]],
    table: pd.DataFrame,
    entities: list[Entity],
    events: pd.DataFrame,
    errors: list[DyadError],
    timings: dict[str, float],
    manifest: dict[str, Any],
    reused: tuple[set[str], set[str]] = (set(), set()),
    edges: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame] | None = None,
    on_frame: FrameFn | None = None,
    previous_build: str | None = None,
) -> Dataset:
    """The end of a build: frames, edges and manifest.

    ``docs`` are the built documents in build order, ``info`` their (topics, word
    count), ``table`` the resolution table with entity ids, ``events`` the events rows
    of every document. ``manifest`` holds the engine's own entries. ``reused`` names
    the documents whose mention rows, and those whose events, an earlier build made
    and checked (they are not checked again cell by cell); ``edges(events, mentions)``,
    if given, makes the edges frame instead of core.graph.edges_frame.
    ``on_frame(name, frame, kept)``, if given, is called with each frame as soon as it
    is made (the command line starts writing it to the store then), documents first;
    the events of ``reused`` documents are those the build ``previous_build`` made.
    """
    def made(name: str, df: pd.DataFrame) -> pd.DataFrame:
        if on_frame is not None:
            kept = (previous_build, reused[1]) if name == "events" and previous_build else None
            on_frame(name, df, kept)
        return df

    t = time.perf_counter()
    documents = made("documents", _documents_frame(docs, info, reused[0]))
    mentions = schemas.rows_where(table, table["entity_id"].notna(), schemas.COLUMNS["mentions"])
    mentions = made("mentions", schemas.validate(
        "mentions", mentions.reset_index(drop=True), _of_docs(mentions, reused[0]))
        if len(mentions) else schemas.empty_frame("mentions"))
    events = made("events", schemas.validate(
        "events", events[schemas.COLUMNS["events"]], _of_docs(events, reused[1]))
        if len(events) else schemas.empty_frame("events"))
    t = _step(timings, "frames", t)
    edges = made("edges", (edges or graph.edges_frame)(events, mentions))
    t = _step(timings, "graph", t)
    ds = Dataset(
        documents=documents,
        mentions=mentions,
        entities=made("entities", schemas.to_frame("entities", entities)),
        events=events,
        edges=edges,
        errors=[e.to_record() for e in errors],
    )
    timings["frames"] = round(timings["frames"] + time.perf_counter() - t, 4)
    ds.manifest = {
        "version": __version__,
        "build_id": uuid.uuid4().hex,  # what a later build's cache refers to
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **manifest,
        "counts": ds.counts(),
        "errors": ds.errors,
        "timings": timings,
    }
    return ds


def _patched_edges(snap: Snapshot, changed: set[str], events: pd.DataFrame,
                   mentions: pd.DataFrame) -> pd.DataFrame:
    """The snapshot's edges, less those of the ``changed`` documents as the snapshot has
    them, plus those of the changed documents as they are now."""
    minus = graph.edges_frame(snap.events_of(changed), snap.mentions_of(changed))
    plus = graph.edges_frame(events[events["doc_id"].isin(changed)],
                             mentions[mentions["doc_id"].isin(changed)])
    return graph.patch_edges(snap.edges, minus, plus)


def _of_docs(df: pd.DataFrame, doc_ids: set[str]) -> np.ndarray | None:
    """Whether each row is of one of these documents (None when there are none)."""
    return df["doc_id"].isin(doc_ids).to_numpy() if doc_ids else None


def _collection_index(contributions: pd.DataFrame) -> resolve.CollectionIndex:
    pairs = contributions[["kind", "text", "key"]].drop_duplicates()  # far fewer than rows
    acr = pairs[pairs["kind"] == "acr"]
    full = pairs[pairs["kind"] == "full"]
    return resolve.CollectionIndex(zip(acr["text"], acr["key"], strict=True),
                                   zip(full["text"], full["key"], strict=True))


Tallies = tuple[pd.DataFrame, pd.DataFrame]  # core.resolve.tally: (counts, roles)


def resolve_collection(table: pd.DataFrame, contributions: pd.DataFrame,
                       previous: Snapshot | None = None, fresh: set[str] = frozenset(),
                       gone: set[str] = frozenset()
                       ) -> tuple[pd.DataFrame, list[Entity], Tallies]:
    """The table with each mention's entity_id, the entities, and their tallies.

    With the ``previous`` build's snapshot (and the table's rows of the documents it
    holds carrying the entity_id it gave them), only the rows of the ``fresh``
    documents and the rows whose resolution what they contribute may change are
    resolved; the entity tallies are patched with those of the documents whose rows
    changed or that are ``gone`` (core.resolve.tally is additive over documents).
    """
    index = _collection_index(contributions)
    if previous is None or previous.counts is None or "entity_id" not in table:
        ids, tallies = resolve.resolve_rows(table, index)
        return table.assign(entity_id=ids), resolve.entities_from(*tallies), tallies
    redo = table["doc_id"].isin(fresh).to_numpy() | resolve.affected_rows(
        table, _collection_index(previous.contributions), index)
    sub = table[redo]
    sub_ids, sub_label_key = resolve.entity_ids(sub, resolve.final_keys(sub, index))
    before = sub["entity_id"].astype("str")
    moved = (before.fillna("") != sub_ids.fillna("")).to_numpy()
    changed = set(sub["doc_id"][moved]) | set(fresh) | set(gone)
    ids = table["entity_id"].astype("str")  # (a new series: the table is not changed)
    if moved.any():
        ids[sub.index[moved]] = sub_ids[moved]
    table = table.assign(entity_id=ids)
    # "label\x1fkey" of every entity id (a function of it): the old ones and the new.
    counts, roles = previous.counts, previous.roles
    keyed = counts[counts["kind"] == resolve.KEY]
    label_key = dict(zip(keyed["entity_id"], keyed["value"], strict=True))
    label_key.update(zip(sub_ids.dropna(), sub_label_key.dropna(), strict=True))

    def tally_of(rows: pd.DataFrame) -> Tallies:
        return resolve.tally(rows.assign(label_key=schemas.map_values(rows["entity_id"],
                                                                       label_key)))

    minus, _ = tally_of(previous.table_of(changed))
    plus, plus_roles = tally_of(table[table["doc_id"].isin(changed)])
    roles = pd.concat([roles[~roles["doc_id"].isin(changed)], plus_roles], ignore_index=True)
    tallies = (resolve.add_tallies(counts, minus, plus), roles)
    return table, resolve.entities_from(*tallies), tallies


def contribution_rows(doc_id: str, local: resolve.LocalResolution) -> dict[str, list]:
    """What a document tells the others: its acronym definitions and full person names."""
    pairs = [("acr", t, k) for t, k in local.acronyms] + [("full", s, k) for s, k in local.fulls]
    return {"doc_id": [doc_id] * len(pairs), "kind": [p[0] for p in pairs],
            "text": [p[1] for p in pairs], "key": [p[2] for p in pairs]}


def table_rows(doc_id: str, mentions: list, local: resolve.LocalResolution) -> dict[str, list]:
    """The resolution-table row (TABLE) of each of a document's mentions."""
    rows = resolve.table_rows(doc_id, mentions, local)
    rows["mention_id"] = [m.mention_id for m in mentions]
    rows["start"] = [m.start for m in mentions]
    rows["end"] = [m.end for m in mentions]
    rows["sentence_id"] = [m.sentence_id for m in mentions]
    return rows


class Collected:
    """What the main process keeps of each annotated document: its resolution-table
    rows, what it tells other documents, its topics and word count."""

    def __init__(self, info: dict[str, tuple[list[str], int]] | None = None) -> None:
        self.rows = _Rows(TABLE)
        self.contrib = _Rows(("doc_id", "kind", "text", "key"))
        self.info = info or {}
        self.failed: set[str] = set()

    def add(self, doc: Document, res: Compact | DyadError, errors: list[DyadError],
            on_error: str) -> None:
        if isinstance(res, DyadError):
            if on_error == "raise":
                raise res
            errors.append(res)
            self.failed.add(doc.doc_id)
            return
        self.rows.add(res.rows)
        self.contrib.add(res.contributions)
        self.info[doc.doc_id] = (res.topics, res.n_words)

    def frames(self, docs: list[Document], reused_table: pd.DataFrame | None = None,
               reused_contrib: pd.DataFrame | None = None) -> tuple[list[Document],
                                                                     pd.DataFrame, pd.DataFrame]:
        """The built documents (without failed ones), the table in their order, and
        the contributions."""
        docs = [d for d in docs if d.doc_id not in self.failed]
        order = {d.doc_id: i for i, d in enumerate(docs)}
        extra = () if reused_table is None else (reused_table,)
        table = _in_doc_order(self.rows.frame(*extra), order, "pos")
        extra = () if reused_contrib is None else (reused_contrib,)
        return docs, table, self.contrib.frame(*extra)


# --------------------------------------------------------------------- the build


@contextmanager
def rare_collections() -> Iterator[None]:
    """Make the cyclic garbage collector run rarely for a while.

    A build holds millions of small objects and makes almost no reference cycles,
    yet each full collection walks every live object: with the default thresholds
    that is seconds of a large rebuild. Reference counting still frees everything
    that is not in a cycle at once.
    """
    old = gc.get_threshold()
    gc.set_threshold(*(max(o, r) for o, r in zip(old, RARE_GC, strict=True)))
    try:
        yield
    finally:
        gc.set_threshold(*old)


def worker_init() -> None:
    """rare_collections for the whole life of a worker process."""
    gc.set_threshold(*RARE_GC)


@contextmanager
def _working_cache(cache_dir: str | Path | None) -> Iterator[tuple[Cache, bool]]:
    """The cache folder to use, and whether it outlives the build (then: snapshots)."""
    if cache_dir is not None:
        yield Cache(cache_dir), True
        return
    with tempfile.TemporaryDirectory(prefix="dyad-build-") as tmp:
        yield Cache(tmp), False


def build_dataset(
    sources: Iterable[str | Path],
    on_error: Literal["collect", "raise"] = "collect",
    backend: str = extract_entities.DEFAULT_BACKEND,
    progress: ProgressFn | None = None,
    jobs: int = 1,
    cache_dir: str | Path | None = None,
    then: Callable[[Dataset], None] | None = None,
    on_frame: FrameFn | None = None,
    ahead: Ahead | None = None,
) -> Dataset:
    """Run the pipeline on files and folders (recursively) and return the Dataset.

    With ``on_error="collect"`` a bad file becomes an error record (file, reason)
    and the rest still builds; with ``"raise"`` the first DyadError is raised.
    ``jobs`` > 1 annotates documents in that many processes (same output as 1);
    ``cache_dir`` keeps per-document work so a rebuild redoes only new articles.
    ``on_frame(name, frame, kept)`` (see FrameFn), if given, is called with each frame
    as soon as it is made, and ``then(dataset)`` before the return, while the cache is
    updated (the command line writes the store in the two). ``ahead`` is a
    core.ahead.Ahead the caller started for this build (the build closes it); without
    one, a rebuild with ``jobs`` > 1 starts its own.
    """
    if on_error not in ("collect", "raise"):
        raise ConfigError(f"on_error must be 'collect' or 'raise', not {on_error!r}")
    if jobs < 1:
        raise ConfigError(f"jobs must be at least 1, not {jobs}")
    sources = [str(s) for s in sources]
    with _working_cache(cache_dir) as (store_cache, keep), rare_collections():
        # A rebuild's new articles are annotated by a process that gets ready meanwhile.
        if ahead is not None and not (keep and ahead.serves(backend, store_cache.folder)):
            ahead.close()
            ahead = None
        if ahead is None and keep and Ahead.possible(jobs) and Snapshot.exists(
                store_cache.folder, backend):
            ahead = Ahead(backend, store_cache.folder)
        pool = _Pool(jobs) if jobs > 1 else None
        try:
            snap = Snapshot.load(store_cache.folder, backend) if keep else Snapshot()
            return _build(sources, on_error, backend, progress, jobs, store_cache, snap, pool,
                          keep, then, on_frame, ahead)
        finally:
            if ahead is not None:
                ahead.close()
            if pool is not None:
                pool.shutdown()


def _build(
    sources: list[str],
    on_error: str,
    backend: str,
    progress: ProgressFn | None,
    jobs: int,
    store_cache: Cache,
    snap: Snapshot,
    pool: _Pool | None,
    save: bool,
    then: Callable[[Dataset], None] | None,
    on_frame: FrameFn | None = None,
    ahead: Ahead | None = None,
) -> Dataset:
    """The build proper; ``save`` leaves a snapshot in the cache folder for the next one."""
    errors: list[DyadError] = []
    timings: dict[str, float] = {}
    t = time.perf_counter()

    # Files come from the snapshot when their path, size and modification time are the
    # snapshot's; the others are read.
    read_files: dict[FileKey, list[Document]] = {}

    def read(path: Path) -> tuple[list[Document], list[DyadError]]:
        key = file_key(path)
        if key is not None and key in snap.files:
            store_cache.count("ingest", "hits")
            read_files[key] = snap.files[key]
            return snap.files[key], []
        store_cache.count("ingest", "misses")
        docs, errs = _read_one(path)
        if key is not None and not errs:
            read_files[key] = docs
        return docs, errs

    docs, files = _read_all(ingest.iter_source_files(sources), errors, read)
    t = _step(timings, "ingest", t)
    if on_error == "raise" and errors:
        raise errors[0]

    # Entities: documents the snapshot holds keep their rows; the others are annotated.
    known = snap.doc_ids()
    todo = [d for d in docs if d.doc_id not in known]
    kept = {d.doc_id for d in docs} & known  # never annotated here, so never failed
    got = Collected(snap.doc_info(kept))
    fn = functools.partial(_annotate_chunk, backend=backend, cache_dir=str(store_cache.folder))
    done = _ahead_stage(ahead, "entities", fn, todo, progress)
    stage = enumerate(done) if done is not None else \
        _run_stage("entities", fn, todo, pool, jobs, progress)
    for i, (res, hit) in stage:
        store_cache.count("entities", "hits" if hit else "misses")
        got.add(todo[i], res, errors, on_error)
    # The rows taken from the snapshot keep the entity ids it gave them (to compare).
    docs, table, contributions = got.frames(docs, snap.table_of(kept),
                                            snap.contributions_of(kept))
    info = got.info
    t = _step(timings, "entities", t)

    current = {d.doc_id for d in docs}
    gone = known - current
    table, entities, tallies = resolve_collection(
        table, contributions, snap, {d.doc_id for d in todo} & current, gone)
    t = _step(timings, "resolve", t)

    # Events: a document whose inputs are what the snapshot saw keeps its events.
    sigs = events_signatures(docs, table, entities, backend)
    same = snap.same_events(sigs)
    redo = [d for d in docs if d.doc_id not in same]
    fn = functools.partial(_events_chunk, cache_dir=str(store_cache.folder), backend=backend)
    tasks = EventTasks(docs, table, entities)
    done = _ahead_stage(ahead, "events", fn, redo, progress, prepare=tasks)
    if ahead is not None:
        ahead.close()
    extracted = enumerate(done) if done is not None else \
        _run_stage("events", fn, redo, pool, jobs, progress, prepare=tasks)
    events_frame = events_rows(docs, (evs for _, evs in extracted), snap.events_of(same))
    if pool is not None:  # the rest is this process's work: let the workers' memory go
        pool.shutdown()
    _step(timings, "events", t)

    ids = [d.doc_id for d in docs]
    new_snap = Snapshot(files=read_files, docs=pd.DataFrame({
        "doc_id": ids, "topics": [info[d][0] for d in ids],
        "n_words": [info[d][1] for d in ids], "sig": [sigs[d] for d in ids],
    }), table=table, contributions=contributions, events=events_frame, counts=tallies[0],
        roles=tallies[1])
    # Edges are sums over documents: when few changed, the snapshot's are patched.
    changed = (current - same) | gone
    patch = None
    if snap.edges is not None and len(changed) <= PATCH_SHARE * len(ids):
        patch = functools.partial(_patched_edges, snap, changed)

    def save_snapshot(ds: Dataset) -> bool:
        new_snap.edges, new_snap.build_id = ds.edges, ds.manifest["build_id"]
        return new_snap.save(store_cache.folder, backend, previous=snap, changed=changed)

    ds = assemble(docs, info, table, entities, events_frame, errors, timings, {
        "backend": backend,
        "jobs": jobs,
        "sources": sources,
        "files": len(files),
        "cache": {
            **store_cache.stats,
            "reused": {"documents": len(kept), "events": len(same)},
        },
    }, reused=(kept, same), edges=patch, on_frame=on_frame, previous_build=snap.build_id)
    # The snapshot is written while ``then`` runs (Arrow writes without holding the GIL).
    with ThreadPoolExecutor(max_workers=1) as writer:
        saved = writer.submit(save_snapshot, ds) if save else None
        if then is not None:
            then(ds)
        if saved is not None:
            saved.result()
    return ds
