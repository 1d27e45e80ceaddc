"""Parquet in/out for a Dataset: one file per frame plus a build.json manifest.

A store is a folder that holds its versions and the analysts' corrections::

    STORE/
      current -> versions/20261125T181500-123456789   (symbolic link)
      versions/<id>/{documents,mentions,entities,events,edges}.parquet, build.json
      corrections.jsonl                                (core.curation)

A new build is written into a fresh version folder and ``current`` is switched to
it in one atomic rename, so readers see the old store or the new one, never a
half-written one; a failed or killed build leaves the previous version in place,
and the previous version is kept for rollback. A flat folder with the Parquet
files and build.json directly inside (as older tools write) is read as well.

Large frames (more than ``PARTITION_ROWS`` rows of events) are written as a
hive-partitioned Parquet dataset by month, ``events/month=2025-07/part-0.parquet``
(undated events in ``month=unknown``), so that DuckDB (core.query) reads only the
months and columns a dashboard filter needs. load_dataset reads both layouts into
the same frames. A month file holds, beside the frame's columns, each row's place
among its document's rows (SEQ), so that it does not change when other documents
come or go: a rebuild links the months no changed document touches from the
previous version (NewVersion.write) instead of writing them again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core import schemas
from core.errors import StoreError
from core.pipeline import Dataset

MANIFEST = "build.json"
CURRENT = "current"
VERSIONS = "versions"
KEEP_VERSIONS = 2  # the current store and one previous version for rollback
PARTITION_ROWS = 200_000  # frames longer than this are written partitioned by month
PARTITIONED = {"events": "date"}  # frame -> the date column its months come from
PARTITION_KEY = "month"
UNKNOWN_MONTH = "unknown"
# A column of partition files by which load_dataset restores the frame's order:
SEQ = "_seq"  # a row's place among its document's rows (documents in their frame's order)
ROW = "_row"  # or its position in the frame (rows not grouped by document)
PART = "part-0.parquet"


def current(store_dir: str | Path) -> Path:
    """The folder holding the frames of the store's current version."""
    store = Path(store_dir)
    link = store / CURRENT
    return link if link.exists() else store


def is_store(path: str | Path) -> bool:
    return (current(path) / MANIFEST).is_file()


def _point(store: Path, version: Path) -> None:
    """Atomically make ``store/current`` a link to ``version`` (rename of a fresh link)."""
    tmp = store / f".{CURRENT}-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(Path(VERSIONS) / version.name)
    os.replace(tmp, store / CURRENT)


def list_versions(store_dir: str | Path) -> list[Path]:
    """The complete versions of a store, oldest first."""
    vdir = Path(store_dir) / VERSIONS
    if not vdir.is_dir():
        return []
    return sorted(p for p in vdir.iterdir() if p.is_dir() and (p / MANIFEST).exists())


def _new_version_name() -> str:
    """A name that sorts after every earlier one: the local time to the nanosecond, read once."""
    ns = time.time_ns()
    return f"{time.strftime('%Y%m%dT%H%M%S', time.localtime(ns // 10**9))}-{ns % 10**9:09d}"


def frame_path(folder: str | Path, name: str) -> Path:
    """Where a frame lives in a version folder: ``name.parquet`` or the ``name/`` dataset."""
    folder = Path(folder)
    part = folder / name
    return part if part.is_dir() else folder / f"{name}.parquet"


def frame_files(folder: str | Path, name: str) -> list[Path]:
    """The Parquet files holding a frame (one, or one per month partition)."""
    path = frame_path(folder, name)
    if path.is_dir():
        return sorted(path.glob(f"{PARTITION_KEY}=*/*.parquet"))
    return [path] if path.exists() else []


def frame_rows(store_dir: str | Path, name: str) -> int:
    """Rows of a frame in the current version, from Parquet metadata (nothing is loaded)."""
    files = frame_files(current(store_dir).resolve(), name)
    if not files:
        raise StoreError(f"{name}.parquet is missing", store_dir)
    try:
        return sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    except Exception as exc:
        raise StoreError(f"{name} cannot be read: {exc}", store_dir) from exc


def _order_key(df: pd.DataFrame, doc_ids: pd.Series | None) -> tuple[str, np.ndarray]:
    """The column that lets load_dataset put the partitions' rows back in frame order.

    SEQ, each row's place among its document's rows, when the rows are grouped by
    document in the documents frame's order (as a build makes them): then a document's
    rows are the same whatever documents come or go, and so is a month file whose
    documents did not change. Else ROW, the row's position in the frame.
    """
    if doc_ids is not None and len(df) and doc_ids.is_unique:
        pos = pd.Index(doc_ids).get_indexer(df["doc_id"])
        if (pos >= 0).all() and (np.diff(pos) >= 0).all():
            starts = np.flatnonzero(np.diff(pos, prepend=-1))
            first = np.repeat(starts, np.diff(np.append(starts, len(df))))
            return SEQ, np.arange(len(df), dtype=np.int64) - first
    return ROW, np.arange(len(df), dtype=np.int64)


def _same_file(old: Path, columns: list[str], kept: frozenset[str]) -> pa.Schema | None:
    """The schema of a month file of the current version if it has these columns and
    rows of kept documents only (so it holds exactly their rows of that month)."""
    try:
        f = pq.ParquetFile(old)
        if f.schema_arrow.names != columns:
            return None
        docs = f.read(columns=["doc_id"]).column(0).unique().to_pylist()
    except (OSError, pa.ArrowException):
        return None
    return f.schema_arrow if kept.issuperset(docs) else None


def _write_partitioned(df: pd.DataFrame, folder: Path, date_col: str,
                       doc_ids: pd.Series | None = None, previous: Path | None = None,
                       kept: frozenset[str] = frozenset()) -> int:
    """Write the frame as one file per month; returns how many files were written.

    ``previous`` is the frame's folder in the current version, where the rows of the
    ``kept`` documents are the same as here: a month whose rows are all of kept
    documents, there and here, is the same file, hard-linked instead of written.
    """
    # Months as numbers (a formatted string per row costs more than the writing).
    months = df[date_col].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)
    nat = np.datetime64("NaT").astype(np.int64)
    order = np.argsort(months, kind="stable")
    months = months[order]
    starts = [0, *(np.flatnonzero(months[1:] != months[:-1]) + 1).tolist()] if len(df) else []
    ends = [*starts[1:], len(months)]
    names = [UNKNOWN_MONTH if months[a] == nat else str(np.datetime64(int(months[a]), "M"))
             for a in starts]  # 2024-03
    key, values = _order_key(df, doc_ids)
    columns = [*df.columns, key]
    if previous is not None and key == SEQ and kept:
        new_docs = ~df["doc_id"].isin(kept).to_numpy()[order]
        same = [None if new_docs[a:b].any() else _same_file(
            previous / f"{PARTITION_KEY}={m}" / PART, columns, kept)
            for m, a, b in zip(names, starts, ends, strict=True)]
    else:
        same = [None] * len(starts)
    for m, was in zip(names, same, strict=True):
        (folder / f"{PARTITION_KEY}={m}").mkdir(parents=True)
        if was is not None:
            _link(previous / f"{PARTITION_KEY}={m}" / PART, folder / f"{PARTITION_KEY}={m}" / PART)
    todo = [(m, a, b) for m, a, b, was in zip(names, starts, ends, same, strict=True)
            if was is None]
    if not todo:
        return 0
    # One Arrow table of the rows to write, in month order: every file gets the same
    # schema, even a month whose column is all null (DuckDB unions the files by it),
    # and so do the files kept from the current version.
    rows = np.concatenate([order[a:b] for _, a, b in todo])
    table = pa.Table.from_pandas(df.iloc[rows], preserve_index=False).append_column(
        key, pa.array(values[rows]))
    schema = next((was for was in same if was is not None), None)
    if schema is not None:
        table = table.cast(schema)
    at = np.cumsum([0, *(b - a for _, a, b in todo)])

    def write(i: int) -> None:
        m = todo[i][0]
        pq.write_table(table.slice(at[i], at[i + 1] - at[i]),
                       folder / f"{PARTITION_KEY}={m}" / PART)

    # Arrow writes without the GIL: a few threads write the months side by side.
    with ThreadPoolExecutor(max_workers=4) as pool:
        for done in [pool.submit(write, i) for i in range(len(todo))]:
            done.result()
    return len(todo)


def _link(old: Path, new: Path) -> None:
    try:
        os.link(old, new)
    except OSError:  # a file system without hard links
        shutil.copyfile(old, new)


def _read_partitioned(folder: Path, doc_ids: pd.Series | None = None) -> pd.DataFrame:
    files = sorted(folder.glob(f"{PARTITION_KEY}=*/*.parquet"))
    if not files:
        raise StoreError("no partition files", folder)
    df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    if SEQ in df.columns:
        if doc_ids is None:
            raise StoreError("the documents frame is needed to order the rows", folder)
        pos = pd.Index(doc_ids).get_indexer(df["doc_id"])
        if (pos < 0).any():
            raise StoreError("rows of documents the store does not have", folder)
        df = df.iloc[np.lexsort((df[SEQ].to_numpy(), pos))].drop(columns=[SEQ])
    else:
        df = df.sort_values(ROW, kind="stable").drop(columns=[ROW])
    return df.reset_index(drop=True)


class NewVersion:
    """A new version of the store at ``out_dir``, written frame by frame.

    Each frame given to ``write`` is written by a thread of its own at once (Arrow
    writes without holding the GIL), so a build can hand frames over as it makes
    them; ``commit`` waits for them, adds the manifest and makes the version current.
    ``discard`` (or any error in commit) leaves the store as it was.
    Frames in PARTITIONED with more than ``partition_rows`` (default PARTITION_ROWS)
    rows are written partitioned by month; their months that did not change since the
    current version are hard-linked from it (see ``write``).
    """

    def __init__(self, out_dir: str | Path, partition_rows: int | None = None) -> None:
        self.limit = PARTITION_ROWS if partition_rows is None else partition_rows
        self.store = store = Path(out_dir)
        self._made = [] if store.exists() else [store]  # folders to remove on discard
        if store.exists() and not store.is_dir():
            raise StoreError("not a folder", store)
        if store.is_dir() and any(store.iterdir()) and not (store / VERSIONS).is_dir():
            if not (store / MANIFEST).exists():
                raise StoreError("refusing to write into a folder that is not a Dyad store",
                                 store)
            # A flat store from an older writer: its files become the first kept version.
            legacy = store / VERSIONS / f"{_new_version_name()}-legacy"
            legacy.mkdir(parents=True)
            for name in [*(f"{f}.parquet" for f in schemas.FRAMES), *schemas.FRAMES, MANIFEST]:
                if (store / name).exists():
                    os.replace(store / name, legacy / name)
            _point(store, legacy)
        if not (store / VERSIONS).exists():
            self._made.insert(0, store / VERSIONS)
        (store / VERSIONS).mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=store / VERSIONS))
        self._pool = ThreadPoolExecutor(max_workers=len(schemas.FRAMES))
        self._writes: dict[str, Future] = {}
        self._doc_ids: pd.Series | None = None
        self.written: dict[str, int] = {}  # partitioned frame -> month files written

    def write(self, name: str, df: pd.DataFrame,
              kept: tuple[str, Iterable[str]] | None = None) -> None:
        """Write a frame (documents first: the others' partitions follow its order).

        ``kept`` = (build id, document ids) says that the frame's rows of these
        documents are those the build with that id (``build_id`` in its manifest)
        wrote: if that build wrote the current version, months of the frame that only
        such rows fill are the current version's files, linked rather than written.
        """
        if name not in schemas.FRAMES or name in self._writes:
            raise ValueError(f"{name!r} is not a frame, or was written already")
        if name == "documents":
            self._doc_ids = df[schemas.DOC.doc_id]
        previous, keep = None, frozenset()
        if kept is not None and name in PARTITIONED:
            now = current(self.store).resolve()
            with suppress(StoreError):
                if read_manifest(now).get("build_id") == kept[0]:
                    previous, keep = frame_path(now, name), frozenset(kept[1])
        # The documents' order as given so far: the layout follows the calls' order.
        self._writes[name] = self._pool.submit(
            self._write, name, df, self._doc_ids, previous, keep)

    def _write(self, name: str, df: pd.DataFrame, doc_ids: pd.Series | None,
               previous: Path | None, kept: frozenset[str]) -> None:
        if name in PARTITIONED and len(df) > self.limit:
            self.written[name] = _write_partitioned(
                df, self._tmp / name, PARTITIONED[name], doc_ids,
                previous if previous is not None and previous.is_dir() else None, kept)
        else:
            df.to_parquet(self._tmp / f"{name}.parquet", index=False)

    def commit(self, manifest: dict) -> Path:
        """Make the version current once every frame is written; returns the store."""
        try:
            missing = [n for n in schemas.FRAMES if n not in self._writes]
            if missing:
                raise StoreError(f"frames not written: {', '.join(missing)}", self.store)
            for done in self._writes.values():
                done.result()
            self._pool.shutdown()
            (self._tmp / MANIFEST).write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False, default=str),
                encoding="utf-8")
            version = self.store / VERSIONS / _new_version_name()
            os.replace(self._tmp, version)
        except BaseException:
            self.discard()
            raise
        _point(self.store, version)
        for old in list_versions(self.store)[:-KEEP_VERSIONS]:
            if old.name != version.name:  # never the version just made current
                shutil.rmtree(old, ignore_errors=True)
        for stale in (self.store / VERSIONS).glob(".tmp-*"):  # left by a killed build
            if time.time() - stale.stat().st_mtime > 3600:
                shutil.rmtree(stale, ignore_errors=True)
        return self.store

    def discard(self) -> None:
        self._pool.shutdown(cancel_futures=True)
        shutil.rmtree(self._tmp, ignore_errors=True)
        for folder in self._made:  # what this version created, if still empty
            with suppress(OSError):
                folder.rmdir()


def save_dataset(
    ds: Dataset, out_dir: str | Path, partition_rows: int | None = None
) -> Path:
    """Write the dataset as a new version of the store at ``out_dir``; returns ``out_dir``.

    Frames in PARTITIONED with more than ``partition_rows`` (default PARTITION_ROWS)
    rows are written partitioned by month.
    """
    version = NewVersion(out_dir, partition_rows)
    try:
        for name, df in ds.frames().items():
            version.write(name, df)
    except BaseException:
        version.discard()
        raise
    return version.commit(ds.manifest)


def rollback(store_dir: str | Path) -> Path:
    """Point the store back at its previous version; returns that version's folder."""
    store = Path(store_dir)
    now = current(store).resolve()
    older = [v for v in list_versions(store) if v.name < now.name]
    if not older:
        raise StoreError("no previous version to roll back to", store)
    _point(store, older[-1])
    return older[-1]


def read_manifest(store_dir: str | Path) -> dict:
    path = current(store_dir) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StoreError("not a Dyad store: build.json is missing", store_dir) from exc
    except (OSError, ValueError) as exc:
        raise StoreError(f"build.json cannot be read: {exc}", store_dir) from exc


def manifest_key(store_dir: str | Path) -> str:
    """A key that changes whenever the store is rewritten (for caches)."""
    path = (current(store_dir) / MANIFEST).resolve()
    try:
        st = path.stat()
        content = path.read_bytes()
    except OSError:
        return "missing"
    return hashlib.blake2b(
        content + f"{path}:{st.st_mtime_ns}:{st.st_size}".encode(), digest_size=8
    ).hexdigest()


def load_dataset(store_dir: str | Path) -> Dataset:
    """Read a store written by save_dataset, checking every frame against its schema."""
    store = Path(store_dir)
    folder = current(store).resolve()  # once: a rebuild switching versions meanwhile is harmless
    manifest = read_manifest(folder)
    frames = {}
    for name in schemas.FRAMES:
        path = frame_path(folder, name)
        if not path.exists():
            raise StoreError(f"{name}.parquet is missing", store)
        try:
            df = _read_partitioned(path, frames["documents"][schemas.DOC.doc_id]) \
                if path.is_dir() else pd.read_parquet(path)
        except Exception as exc:
            raise StoreError(f"{name}.parquet cannot be read: {exc}", store) from exc
        frames[name] = schemas.validate(name, df)
    return Dataset(**frames, errors=list(manifest.get("errors", [])), manifest=manifest)
