"""Parquet in/out for a Dataset: one file per frame plus a build.json manifest.

A store is written to a temporary sibling folder and renamed into place, so a
failed or killed write never leaves a half-written store behind.
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
KEEP_VERSIONS = 2  # the current store and one previous version for rollback


def _versions_dir(out: Path) -> Path:
    return out.parent / f".{out.name}.versions"


def _point(out: Path, version: Path) -> None:
    """Atomically make ``out`` a link to ``version`` (rename of a fresh link over it)."""
    tmp = out.parent / f".{out.name}.link-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(os.path.relpath(version, out.parent))
    os.replace(tmp, out)


def list_versions(out_dir: str | Path) -> list[Path]:
    """The versions of a store, oldest first (the current one is what the link points to)."""
    vdir = _versions_dir(Path(out_dir))
    if not vdir.is_dir():
        return []
    return sorted(p for p in vdir.iterdir() if p.is_dir() and (p / MANIFEST).exists())


def save_dataset(ds: Dataset, out_dir: str | Path) -> Path:
    """Write the dataset as a new version of the store at ``out_dir``.

    The frames are written into a fresh folder beside the store, then ``out_dir``
    (a symbolic link) is switched to it in one atomic rename: readers see the old
    store or the new one, never a half-written one, and a killed write leaves the
    previous version in place. The previous version is kept for rollback.
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    vdir = _versions_dir(out)
    vdir.mkdir(exist_ok=True)
    if out.exists() and not out.is_symlink():
        if not (out / MANIFEST).exists() and any(out.iterdir()):
            raise StoreError("refusing to replace a folder that is not a Dyad store", out)
        # A plain-folder store (or an empty folder) becomes the first kept version.
        os.replace(out, vdir / f"{time.strftime('%Y%m%dT%H%M%S')}-0-legacy")
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=vdir))
    try:
        for name, df in ds.frames().items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / MANIFEST).write_text(
            json.dumps(ds.manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        version = vdir / f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}"
        os.replace(tmp, version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _point(out, version)
    for old in list_versions(out)[:-KEEP_VERSIONS]:
        if old.resolve() != out.resolve():
            shutil.rmtree(old, ignore_errors=True)
    return out


def rollback(out_dir: str | Path) -> Path:
    """Point the store back at its previous version; returns that version's folder."""
    out = Path(out_dir)
    versions = list_versions(out)
    current = out.resolve()
    older = [v for v in versions if v.resolve() != current and v.name < current.name]
    if not older:
        raise StoreError("no previous version to roll back to", out)
    _point(out, older[-1])
    return older[-1]


def read_manifest(store_dir: str | Path) -> dict:
    path = Path(store_dir) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StoreError("not a Dyad store: build.json is missing", store_dir) from exc
    except (OSError, ValueError) as exc:
        raise StoreError(f"build.json cannot be read: {exc}", store_dir) from exc


def manifest_key(store_dir: str | Path) -> str:
    """A key that changes whenever the store is rewritten (for caches)."""
    path = Path(store_dir) / MANIFEST
    try:
        st = path.stat()
        content = path.read_bytes()
    except OSError:
        return "missing"
    return hashlib.blake2b(
        content + f"{st.st_mtime_ns}:{st.st_size}".encode(), digest_size=8
    ).hexdigest()


def load_dataset(store_dir: str | Path) -> Dataset:
    """Read a store written by save_dataset, checking every frame against its schema."""
    store = Path(store_dir)
    manifest = read_manifest(store)
    frames = {}
    for name in schemas.FRAMES:
        path = store / f"{name}.parquet"
        if not path.exists():
            raise StoreError(f"{name}.parquet is missing", store)
        try:
            df = pd.read_parquet(path)
        except Exception as exc:
            raise StoreError(f"{name}.parquet cannot be read: {exc}", store) from exc
        frames[name] = schemas.validate(name, df)
    return Dataset(**frames, errors=list(manifest.get("errors", [])), manifest=manifest)
