"""What a build leaves in its cache folder for the next one to reuse.

A snapshot holds, for the documents of the last build: the documents each source
file gave (by path, size and modification time), every document's resolution-table
rows and what it tells other documents (core.resolve), its topics and word count,
and its events with the key of their inputs (core.pipeline.events_signatures).
A rebuild takes from it whatever is still valid, so it never opens the per-document
cache for an unchanged document.

It is only valid for the Dyad code and entity backend that wrote it; anything else
(or a snapshot that cannot be read) counts as no snapshot: the build does everything.
Like the cache, it is local working data that Dyad wrote itself.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from core.cache import code_fingerprint
from core.model import Document
from core.schemas import from_arrow

log = logging.getLogger(__name__)

FOLDER = "snapshot"
META = "meta.json"
FRAMES = ("docs", "table", "contributions", "events")

# (path as given, device, inode, size, modification time in ns) of a source file.
FileKey = tuple[str, int, int, int, int]


def file_key(path: Path) -> FileKey | None:
    """What identifies a file's content cheaply (one stat); None if it cannot be stat'ed."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass
class Snapshot:
    files: dict[FileKey, list[Document]] = field(default_factory=dict)
    docs: pd.DataFrame | None = None  # doc_id, topics, n_words, sig
    table: pd.DataFrame | None = None  # core.pipeline.TABLE
    contributions: pd.DataFrame | None = None  # doc_id, kind, text, key
    events: pd.DataFrame | None = None  # the events frame

    @staticmethod
    def _meta(backend: str) -> dict[str, str]:
        return {"code": code_fingerprint(), "backend": backend}

    @classmethod
    def load(cls, cache_folder: Path, backend: str) -> Snapshot:
        folder = Path(cache_folder) / FOLDER
        try:
            meta = json.loads((folder / META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if meta != cls._meta(backend):
            log.info("snapshot in %s is of other code or backend: not used", folder)
            return cls()
        try:
            with open(folder / "files.pkl", "rb") as fh:
                files = pickle.load(fh)
            frames = {name: from_arrow(feather.read_table(folder / f"{name}.arrow"))
                      for name in FRAMES}
        except Exception as exc:  # unreadable working data: build without it
            log.warning("snapshot in %s cannot be read (%s): not used", folder, exc)
            return cls()
        return cls(files=files, **frames)

    def save(self, cache_folder: Path, backend: str) -> bool:
        """Write the snapshot, replacing the previous one only once it is complete.

        A snapshot that cannot be written (disk full, another build replacing it at
        the same moment) is only a loss of speed: a warning, and False.
        """
        cache_folder = Path(cache_folder)
        _remove_stale(cache_folder)
        tmp = Path(tempfile.mkdtemp(prefix=".snapshot-", dir=cache_folder))
        try:
            with open(tmp / "files.pkl", "wb") as fh:
                pickle.dump(self.files, fh, protocol=pickle.HIGHEST_PROTOCOL)
            for name in FRAMES:  # Arrow files, uncompressed: the fastest to write and read
                table = pa.Table.from_pandas(getattr(self, name), preserve_index=False)
                feather.write_feather(table, tmp / f"{name}.arrow", compression="uncompressed")
            (tmp / META).write_text(json.dumps(self._meta(backend)), encoding="utf-8")
            final, old = cache_folder / FOLDER, cache_folder / f".{FOLDER}-old-{os.getpid()}"
            if final.exists():
                os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            log.warning("snapshot not saved in %s (%s): the next build redoes every document",
                        cache_folder, exc)
            return False
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return True

    # -- what a build takes from it

    def doc_ids(self) -> set[str]:
        return set() if self.docs is None else set(self.docs["doc_id"])

    def doc_info(self, ids: set[str]) -> dict[str, tuple[list[str], int]]:
        """(topics, word count) of these documents."""
        if self.docs is None or not ids:
            return {}
        d = self.docs[self.docs["doc_id"].isin(ids)]
        return {doc_id: (list(t), int(n)) for doc_id, t, n in
                zip(d["doc_id"], d["topics"], d["n_words"], strict=True)}

    def _rows_of(self, df: pd.DataFrame | None, ids: Iterable[str]) -> pd.DataFrame:
        if df is None:
            return pd.DataFrame()
        ids = set(ids)
        if self.docs is not None and len(ids) == len(self.docs):
            return df  # every document of the snapshot: no filtering
        return df[df["doc_id"].isin(ids)]

    def table_of(self, ids: set[str]) -> pd.DataFrame:
        return self._rows_of(self.table, ids)

    def contributions_of(self, ids: set[str]) -> pd.DataFrame:
        return self._rows_of(self.contributions, ids)

    def events_of(self, ids: set[str]) -> pd.DataFrame:
        return self._rows_of(self.events, ids)

    def same_events(self, sigs: Mapping[str, str]) -> set[str]:
        """Documents whose events the snapshot holds for exactly these inputs."""
        if self.docs is None:
            return set()
        return {d for d, s in zip(self.docs["doc_id"], self.docs["sig"], strict=True)
                if sigs.get(d) == s}


STALE_SECONDS = 3600


def _remove_stale(cache_folder: Path) -> None:
    """Half-written snapshots that a killed build left behind (older than an hour)."""
    for path in cache_folder.glob(f".{FOLDER}-*"):
        try:
            if time.time() - path.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue
