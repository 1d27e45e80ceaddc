"""build_dataset on a Dask cluster: the pipeline's own stages, spread over workers.

The work is split where core.pipeline splits it for its process pool, and done by
the very same functions, so the Dataset is identical to ``core.build_dataset``'s:

1. The client lists the input files; they are cut into contiguous partitions and
   each worker reads its files itself and annotates their documents (ingest +
   entities). Paths must therefore mean the same file on the client and on every
   worker: a shared filesystem, or an object store mounted at the same path.
2. The client merges documents with the same doc_id in reading order, exactly as
   the local engine does, and resolves entities over the whole collection (that
   step needs every mention at once).
3. Event extraction runs per partition on the workers; the client clusters the
   events, builds the edges and the frames.

Dask is optional: ``pip install 'dyad[dask]'``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from core import extract_entities, ingest
from core.cache import code_fingerprint
from core.errors import ConfigError, DyadError
from core.model import Document, Event
from core.pipeline import (
    Collected,
    Dataset,
    EventTask,
    EventTasks,
    ProgressFn,
    _events_chunk,
    _read_all,
    _read_one,
    _step,
    annotate_safely,
    assemble,
    compact,
    events_rows,
    resolve_collection,
)

if TYPE_CHECKING:
    from distributed import Client

INSTALL_HINT = "pip install 'dyad[dask]'"

# Partitions per worker thread: enough to balance uneven files, few enough that
# per-task overhead stays small.
PARTITIONS_PER_THREAD = 4


def _require_dask() -> Any:
    """The dask.distributed module, or a ConfigError that says how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise ConfigError(
            f"the dask engine needs Dask, which is not installed ({exc}); "
            f"install it with: {INSTALL_HINT}"
        ) from None
    return distributed


@contextmanager
def _connect(scheduler: str | None) -> Iterator[Client]:
    """A client of the scheduler at ``scheduler``, or of a LocalCluster started for this build."""
    distributed = _require_dask()
    if scheduler is None:
        # One single-threaded worker process per core: annotation is pure Python, so
        # threads would wait on each other (GIL). No dashboard, and the scheduler's
        # HTTP endpoint on any free port rather than 8787, which may be taken.
        with distributed.LocalCluster(
            n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
            dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
            silence_logs=logging.ERROR,  # its shutdown chatter is not the user's business
        ) as cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        client = distributed.Client(scheduler)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(f"cannot connect to the Dask scheduler at {scheduler!r}: {exc}") from None
    with client:
        yield client


def _fingerprint() -> str:
    """Hash of Dyad's code and resources as they are on disk now (a couple of ms).

    Not the per-process cached value: workers outlive builds, and the check below
    compares this build's client with its workers.
    """
    return code_fingerprint.__wrapped__()


def _check_code(workers: set[str], client: set[str]) -> None:
    """Stop when a worker has other Dyad code or resources: its output would differ silently.

    ``client`` holds the client's fingerprints from before and after the stage, so an
    upgrade of a shared install while the build runs is not taken for a mismatch.
    """
    odd = workers - client
    if odd:
        raise ConfigError(
            f"a Dask worker has other Dyad code or resources than this client (fingerprint "
            f"{sorted(odd)[0]}, not {sorted(client)[-1]}): install the same Dyad on every "
            f"worker and restart the workers"
        )


@dataclass
class _Partition:
    """What a worker sends back for its files."""

    files: list[tuple[list[Document], list[DyadError]]]  # per file, in the given order
    annotations: dict[str, Any]  # doc_id -> annotate_safely's result for that document
    fingerprint: str  # of the worker's Dyad code and resources


def _relabel(
    read: tuple[list[Document], list[DyadError]], opened: str, given: str
) -> tuple[list[Document], list[DyadError]]:
    """Name the file as the user gave it rather than by the absolute path a worker opened.

    A worker's working folder is not the client's, so relative paths travel made
    absolute; the records then say what the local engine says ("a.json#2" too).
    """
    if opened == given:
        return read

    def name(label: str | None) -> str | None:
        if label is not None and (label == opened or label.startswith(opened + "#")):
            return given + label[len(opened):]
        return label

    docs, errors = read
    for doc in docs:
        doc.source = name(doc.source)
        doc.sources = [name(s) for s in doc.sources]
    return docs, [type(e)(e.reason, name(e.path)) for e in errors]


def _ingest_partition(paths: list[tuple[str, str]], backend: str) -> _Partition:
    """On a worker: read the files (absolute path, path as given) and annotate each
    distinct document once."""
    files = [_relabel(_read_one(Path(opened)), opened, given) for opened, given in paths]
    unique: dict[str, Document] = {}
    for docs, _ in files:
        for doc in docs:
            unique.setdefault(doc.doc_id, doc)
    # Annotation depends on the document's content only (its cache key is the doc_id),
    # so this copy's result serves the merged document on the client.
    results = [annotate_safely(doc, backend) for doc in unique.values()]
    return _Partition(files, dict(zip(unique, results, strict=True)), _fingerprint())


def _events_partition(tasks: list[EventTask], backend: str) -> tuple[str, list[list[Event]]]:
    """On a worker: event extraction for resolved documents, one list per document."""
    return _fingerprint(), _events_chunk(tasks, None, backend)


def _split(items: list, n: int) -> list[list]:
    """``items`` in ``n`` contiguous parts of nearly equal size (none empty)."""
    n = max(1, min(n, len(items)))
    size, extra = divmod(len(items), n)
    parts, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        parts.append(items[start:end])
        start = end
    return [p for p in parts if p]


def _run(
    client: Client,
    fn: Callable[..., Any],
    parts: list[list],
    stage: str,
    progress: ProgressFn | None,
    *args: Any,
) -> list:
    """Run ``fn(part, *args)`` per part on the cluster; results in the parts' order."""
    distributed = _require_dask()
    total = sum(len(p) for p in parts)
    if progress:
        progress(0, total, stage)
    # Scattered, the parts travel to the workers as data rather than inside the task graph.
    data = [client.scatter([p], hash=False)[0] for p in parts]
    futures = [client.submit(fn, d, *args, pure=False) for d in data]
    size = {f.key: len(p) for f, p in zip(futures, parts, strict=True)}
    done = 0
    for future in distributed.as_completed(futures):
        if future.status == "error":
            future.result()  # raises the worker's exception (a ConfigError, a bug) here
        done += size[future.key]
        if progress:
            progress(done, total, stage)
    return client.gather(futures)


def build_dataset_dask(
    sources: Iterable[str | Path],
    scheduler: str | None = None,
    backend: str = extract_entities.DEFAULT_BACKEND,
    on_error: Literal["collect", "raise"] = "collect",
    partitions: int | None = None,
    progress: ProgressFn | None = None,
) -> Dataset:
    """Run the pipeline on a Dask cluster; the result equals ``core.build_dataset``'s.

    ``scheduler`` is an address such as ``tcp://10.0.0.5:8786``; None starts a local
    cluster for this build. Source paths are read by the workers, so they must see
    them at the same path as this process. ``partitions`` is how many pieces the
    files (and later the documents) are cut into; by default four per worker thread.
    """
    if on_error not in ("collect", "raise"):
        raise ConfigError(f"on_error must be 'collect' or 'raise', not {on_error!r}")
    if partitions is not None and partitions < 1:
        raise ConfigError(f"partitions must be at least 1, not {partitions}")
    _require_dask()
    sources = [str(s) for s in sources]
    seen = {_fingerprint()}
    errors: list[DyadError] = []
    timings: dict[str, float] = {}

    with _connect(scheduler) as client:
        t = time.perf_counter()
        threads = sum(client.nthreads().values()) or 1
        n_parts = partitions or PARTITIONS_PER_THREAD * threads
        # Listed here, read there: the listing keeps the local engine's file order.
        listed = list(ingest.iter_source_files(sources))
        files = [str(p) for p in listed if not isinstance(p, DyadError)]
        parts = _split([(os.path.abspath(f), f) for f in files], n_parts)
        results: list[_Partition] = _run(
            client, _ingest_partition, parts, "entities", progress, backend
        )
        seen.add(_fingerprint())
        _check_code({part.fingerprint for part in results}, seen)
        annotations: dict[str, Any] = {}
        for part in results:
            for doc_id, res in part.annotations.items():
                annotations.setdefault(doc_id, res)  # the first copy, as the merge keeps
        # The merge of the local engine, fed with what the workers read, in listing order.
        per_file = iter([f for part in results for f in part.files])
        docs, _ = _read_all(listed, errors, read=lambda _path: next(per_file))
        if on_error == "raise" and errors:
            raise errors[0]
        got = Collected()
        for doc in docs:
            res = annotations[doc.doc_id]
            got.add(doc, res if isinstance(res, DyadError) else compact(doc, res), errors,
                    on_error)
        docs, table, contributions = got.frames(docs)
        t = _step(timings, "entities", t)  # ingest and entities run together here

        table, entities, _ = resolve_collection(table, contributions)
        t = _step(timings, "resolve", t)

        tasks = EventTasks(docs, table, entities)(docs)
        for task in tasks:  # the workers hold no cache: the annotation travels with the task
            task.annotation = annotations[task.document.doc_id]
        outs = _run(client, _events_partition, _split(tasks, n_parts), "events", progress,
                    backend)
        seen.add(_fingerprint())
        _check_code({fp for fp, _ in outs}, seen)
        events_frame = events_rows(docs, (evs for _, part in outs for evs in part))
        _step(timings, "events", t)

    return assemble(docs, got.info, table, entities, events_frame, errors, timings, {
        "engine": "dask",
        "scheduler": scheduler or "local",
        "backend": backend,
        "jobs": threads,
        "partitions": len(parts),
        "sources": sources,
        "files": len(files),
        "cache": None,
    })

