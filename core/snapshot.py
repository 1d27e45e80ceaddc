"""What a build leaves in its cache folder for the next one to reuse.

A snapshot holds, for the documents of the last build: the documents each source
file gave (by path, size and modification time), every document's resolution-table
rows (with the entity each mention resolved to) and what it tells other documents
(core.resolve), its topics and word count, its roles in the entity tallies, and its
events with the key of their inputs (core.pipeline.events_signatures); and the
edges and entity tallies (core.resolve.tally) of the whole build. A
rebuild takes from it whatever is still valid, so it never opens the per-document
cache for an unchanged document, and patches the edges with those of the documents
that changed (core.graph.patch_edges).

It is only valid for the Dyad code and entity backend that wrote it; anything else
(or a snapshot that cannot be read) counts as no snapshot: the build does everything.
Like the cache, it is local working data that Dyad wrote itself.

On disk it is a list of *segments* (meta.json names them, in order). A build that
changed few documents writes one more segment: the rows of those documents and the
source files that came or went, plus the edges and tallies; loading applies the
segments in turn.
Past MAX_SEGMENTS, or when many documents changed, a build writes it all anew.
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
import pyarrow.compute as pc
import pyarrow.feather as feather

from core.cache import code_fingerprint
from core.model import Document
from core.schemas import from_arrow

log = logging.getLogger(__name__)

FOLDER = "snapshot"
META = "meta.json"
FILES = "files.pkl"
PER_DOC = ("docs", "table", "contributions", "events", "roles")  # rows of documents
WHOLE = ("edges", "counts")  # frames of the whole build

# A rebuild that changed few documents writes only their rows, as a new *segment*
# (with the edges, which are small); the next load applies the segments in order.
# Past this many segments, or this share of changed documents, it writes all anew.
MAX_SEGMENTS = 8
SEGMENT_SHARE = 0.25

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
    table: pd.DataFrame | None = None  # core.pipeline.TABLE and entity_id
    contributions: pd.DataFrame | None = None  # doc_id, kind, text, key
    events: pd.DataFrame | None = None  # the events frame
    roles: pd.DataFrame | None = None  # core.resolve.ROLE_COLUMNS
    edges: pd.DataFrame | None = None  # the edges frame
    counts: pd.DataFrame | None = None  # core.resolve.COUNT_COLUMNS
    segments: list[str] = field(default_factory=list)  # those it was read from
    build_id: str | None = None  # of the build that wrote it (its manifest's build_id)

    @staticmethod
    def _meta(backend: str) -> dict[str, str]:
        return {"code": code_fingerprint(), "backend": backend}

    @classmethod
    def _segments(cls, folder: Path, backend: str) -> tuple[list[str], str | None]:
        """The segments of the snapshot in ``folder`` and the build that wrote it; no
        segments if it is missing, unreadable, or of other code or backend."""
        try:
            meta = json.loads((folder / META).read_text(encoding="utf-8"))
            segments, build = list(meta.pop("segments")), meta.pop("build", None)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return [], None
        if meta != cls._meta(backend):
            log.info("snapshot in %s is of other code or backend: not used", folder)
            return [], None
        return segments, build

    @classmethod
    def exists(cls, cache_folder: Path, backend: str) -> bool:
        """Whether the cache folder holds a snapshot a build may use."""
        return bool(cls._segments(Path(cache_folder) / FOLDER, backend)[0])

    @classmethod
    def load(cls, cache_folder: Path, backend: str) -> Snapshot:
        folder = Path(cache_folder) / FOLDER
        segments, build = cls._segments(folder, backend)
        if not segments:
            return cls()
        try:
            files: dict[FileKey, list[Document]] = {}
            parts: dict[str, list[pa.Table]] = {name: [] for name in PER_DOC}
            for seg in segments:
                with open(folder / seg / FILES, "rb") as fh:
                    added, removed, dropped = pickle.load(fh)
                for key in removed:
                    files.pop(key, None)
                files.update(added)
                for name in PER_DOC:
                    if dropped:  # rows of documents this segment replaces or removes
                        parts[name] = [_without(t, dropped) for t in parts[name]]
                    parts[name].append(_read(folder / seg / f"{name}.arrow"))
            frames = {name: from_arrow(pa.concat_tables(tables, promote_options="permissive"))
                      for name, tables in parts.items()}
            newest = folder / segments[-1]
            for name in WHOLE:
                frames[name] = from_arrow(_read(newest / f"{name}.arrow"))
        except Exception as exc:  # unreadable working data: build without it
            log.warning("snapshot in %s cannot be read (%s): not used", folder, exc)
            return cls()
        return cls(files=files, **frames, segments=segments, build_id=build)

    def save(self, cache_folder: Path, backend: str, previous: Snapshot | None = None,
             changed: set[str] | None = None) -> bool:
        """Write the snapshot; the previous one stays whole until the new one is.

        With the ``previous`` snapshot (as loaded by this build) and the documents
        that ``changed`` since (added, removed, or with other rows), only their rows
        are written, as a segment over the previous one, when they are few.
        A snapshot that cannot be written (disk full, another build replacing it at
        the same moment) is only a loss of speed: a warning, and False.
        """
        cache_folder = Path(cache_folder)
        folder = cache_folder / FOLDER
        try:
            if previous is not None and changed is not None and self._delta_fits(
                    folder, backend, previous, changed):
                self._save_segment(folder, backend, previous, changed)
            else:
                self._save_whole(cache_folder, backend)
        except OSError as exc:
            log.warning("snapshot not saved in %s (%s): the next build redoes every document",
                        cache_folder, exc)
            return False
        return True

    def _delta_fits(self, folder: Path, backend: str, previous: Snapshot,
                    changed: set[str]) -> bool:
        if not previous.segments or len(previous.segments) >= MAX_SEGMENTS:
            return False
        if self.docs is None or len(changed) > SEGMENT_SHARE * max(len(self.docs), 1):
            return False
        # Still the snapshot this build read (no other build replaced it since)?
        return self._segments(folder, backend) == (previous.segments, previous.build_id)

    def _meta_json(self, backend: str, segments: list[str], build: str | None) -> dict:
        return {**self._meta(backend), "segments": segments, "build": build}

    def _save_whole(self, cache_folder: Path, backend: str) -> None:
        _remove_stale(cache_folder, f".{FOLDER}-*")
        tmp = Path(tempfile.mkdtemp(prefix=f".{FOLDER}-", dir=cache_folder))
        try:
            seg = "seg-0"
            self._write(tmp / seg, self.files, [], set(), {n: getattr(self, n) for n in PER_DOC})
            (tmp / META).write_text(json.dumps(self._meta_json(backend, [seg], self.build_id)),
                                    encoding="utf-8")
            final, old = cache_folder / FOLDER, cache_folder / f".{FOLDER}-old-{os.getpid()}"
            if final.exists():
                os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _save_segment(self, folder: Path, backend: str, previous: Snapshot,
                      changed: set[str]) -> None:
        _remove_stale(folder, "seg-*", keep=set(previous.segments))
        seg = Path(tempfile.mkdtemp(prefix="seg-", dir=folder))
        try:
            rows = {n: self._rows_of(getattr(self, n), changed) for n in PER_DOC}
            added = {k: v for k, v in self.files.items() if k not in previous.files}
            removed = [k for k in previous.files if k not in self.files]
            self._write(seg, added, removed, changed, rows)
            tmp = folder / f".{META}-{seg.name}"
            tmp.write_text(json.dumps(self._meta_json(
                backend, [*previous.segments, seg.name], self.build_id)), encoding="utf-8")
            os.replace(tmp, folder / META)  # the segment counts from here on
        except BaseException:
            shutil.rmtree(seg, ignore_errors=True)
            raise

    def _write(self, seg: Path, added: dict, removed: list, dropped: set[str],
               frames: Mapping[str, pd.DataFrame]) -> None:
        seg.mkdir(exist_ok=True)
        with open(seg / FILES, "wb") as fh:
            pickle.dump((added, removed, dropped), fh, protocol=pickle.HIGHEST_PROTOCOL)
        for name, df in {**frames, **{n: getattr(self, n) for n in WHOLE}}.items():
            # Uncompressed Arrow files, which load memory-mapped: without a copy, and
            # only the pages a build reads (zstd would make them a third the size,
            # and the load of a 10,000-article snapshot 0.4 s slower).
            table = pa.Table.from_pandas(df, preserve_index=False)
            feather.write_feather(table, seg / f"{name}.arrow", compression="uncompressed")

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
        if self.docs is not None and len(ids) >= len(self.docs) and ids.issuperset(
                self.docs["doc_id"]):
            return df  # every document of the snapshot: no filtering
        return df[df["doc_id"].isin(ids)]

    def table_of(self, ids: set[str]) -> pd.DataFrame:
        """Resolution-table rows of these documents, with the entity ids it gave them."""
        return self._rows_of(self.table, ids)

    def mentions_of(self, ids: set[str]) -> pd.DataFrame:
        """The mention rows (resolved table rows, with their entity ids) of these documents."""
        rows = self._rows_of(self.table, ids)
        return rows[rows["entity_id"].notna()] if len(rows) else rows

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


def _read(path: Path) -> pa.Table:
    # Memory-mapped: files are never changed in place (a new build writes new files and
    # replaces the folder), so frames may keep pointing into them.
    return feather.read_table(path, memory_map=True)


def _without(table: pa.Table, ids: set[str]) -> pa.Table:
    """The rows of an Arrow table whose doc_id is not one of ``ids``."""
    column = table["doc_id"]
    hit = pc.is_in(column, value_set=pa.array(sorted(ids), type=column.type))
    if not pc.any(hit).as_py():  # new documents only: nothing to take out (nor to copy)
        return table
    return table.filter(pc.invert(hit))


def _remove_stale(folder: Path, pattern: str, keep: set[str] = frozenset()) -> None:
    """What a killed build left half-written (older than an hour), but ``keep``."""
    for path in folder.glob(pattern):
        if path.name in keep:
            continue
        try:
            if time.time() - path.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue
