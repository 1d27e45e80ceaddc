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
the same frames.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
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
ROW = "_row"  # original row position inside partition files: load keeps the frame's order


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


def _write_partitioned(df: pd.DataFrame, folder: Path, date_col: str) -> None:
    # Months as numbers (a formatted string per row costs more than the writing).
    months = df[date_col].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)
    nat = np.datetime64("NaT").astype(np.int64)
    # One Arrow table, put in month order once (stably) and sliced per month: every
    # file gets the same schema, even a month whose column is all null (DuckDB unions
    # the files by that schema).
    order = np.argsort(months, kind="stable")
    months = months[order]
    table = pa.Table.from_pandas(df, preserve_index=False).append_column(
        ROW, pa.array(np.arange(len(df), dtype=np.int64)))
    starts = [0, *(np.flatnonzero(months[1:] != months[:-1]) + 1).tolist()] if len(df) else []
    ends = [*starts[1:], len(months)]

    def write(start: int, end: int) -> None:
        month = months[start]
        name = UNKNOWN_MONTH if month == nat else str(np.datetime64(int(month), "M"))  # 2024-03
        part = folder / f"{PARTITION_KEY}={name}"
        part.mkdir(parents=True)
        pq.write_table(table.take(order[start:end]), part / "part-0.parquet")

    # Arrow writes without the GIL: a few threads write the months side by side.
    with ThreadPoolExecutor(max_workers=4) as pool:
        for done in [pool.submit(write, a, b) for a, b in zip(starts, ends, strict=True)]:
            done.result()


def _read_partitioned(folder: Path) -> pd.DataFrame:
    files = sorted(folder.glob(f"{PARTITION_KEY}=*/*.parquet"))
    if not files:
        raise StoreError("no partition files", folder)
    df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return df.sort_values(ROW, kind="stable").drop(columns=[ROW]).reset_index(drop=True)


class NewVersion:
    """A new version of the store at ``out_dir``, written frame by frame.

    Each frame given to ``write`` is written by a thread of its own at once (Arrow
    writes without holding the GIL), so a build can hand frames over as it makes
    them; ``commit`` waits for them, adds the manifest and makes the version current.
    ``discard`` (or any error in commit) leaves the store as it was.
    Frames in PARTITIONED with more than ``partition_rows`` (default PARTITION_ROWS)
    rows are written partitioned by month.
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

    def write(self, name: str, df: pd.DataFrame) -> None:
        if name not in schemas.FRAMES or name in self._writes:
            raise ValueError(f"{name!r} is not a frame, or was written already")
        self._writes[name] = self._pool.submit(self._write, name, df)

    def _write(self, name: str, df: pd.DataFrame) -> None:
        if name in PARTITIONED and len(df) > self.limit:
            _write_partitioned(df, self._tmp / name, PARTITIONED[name])
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
            df = _read_partitioned(path) if path.is_dir() else pd.read_parquet(path)
        except Exception as exc:
            raise StoreError(f"{name}.parquet cannot be read: {exc}", store) from exc
        frames[name] = schemas.validate(name, df)
    return Dataset(**frames, errors=list(manifest.get("errors", [])), manifest=manifest)
