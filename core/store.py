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
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from core import schemas
from core.errors import StoreError
from core.pipeline import Dataset

MANIFEST = "build.json"
CURRENT = "current"
VERSIONS = "versions"
KEEP_VERSIONS = 2  # the current store and one previous version for rollback


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
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}"


def save_dataset(ds: Dataset, out_dir: str | Path) -> Path:
    """Write the dataset as a new version of the store at ``out_dir``; returns ``out_dir``."""
    store = Path(out_dir)
    if store.exists() and not store.is_dir():
        raise StoreError("not a folder", store)
    if store.is_dir() and any(store.iterdir()) and not (store / VERSIONS).is_dir():
        if not (store / MANIFEST).exists():
            raise StoreError("refusing to write into a folder that is not a Dyad store", store)
        # A flat store from an older writer: its files become the first kept version.
        legacy = store / VERSIONS / f"{_new_version_name()}-legacy"
        legacy.mkdir(parents=True)
        for name in [*(f"{f}.parquet" for f in schemas.FRAMES), MANIFEST]:
            if (store / name).exists():
                os.replace(store / name, legacy / name)
        _point(store, legacy)
    vdir = store / VERSIONS
    vdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=vdir))
    try:
        for name, df in ds.frames().items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / MANIFEST).write_text(
            json.dumps(ds.manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        version = vdir / _new_version_name()
        os.replace(tmp, version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _point(store, version)
    for old in list_versions(store)[:-KEEP_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in vdir.glob(".tmp-*"):  # left by a build that was killed
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    return store


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
        path = folder / f"{name}.parquet"
        if not path.exists():
            raise StoreError(f"{name}.parquet is missing", store)
        try:
            df = pd.read_parquet(path)
        except Exception as exc:
            raise StoreError(f"{name}.parquet cannot be read: {exc}", store) from exc
        frames[name] = schemas.validate(name, df)
    return Dataset(**frames, errors=list(manifest.get("errors", [])), manifest=manifest)
