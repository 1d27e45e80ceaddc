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
from pathlib import Path

import pandas as pd

from core import schemas
from core.errors import StoreError
from core.pipeline import Dataset

MANIFEST = "build.json"


def save_dataset(ds: Dataset, out_dir: str | Path) -> Path:
    """Write the dataset to ``out_dir`` (replacing a previous store there atomically)."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, df in ds.frames().items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / MANIFEST).write_text(
            json.dumps(ds.manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


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
