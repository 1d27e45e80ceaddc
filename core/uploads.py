"""Uploads that cannot hurt the instance: checked, renamed, unpacked safely, then built.

``receive`` saves one upload batch into a new folder of its own (named from the
time and a random token, never from user input) and returns what it accepted and
what it refused, with a reason per refused file or archive member:

- limits per batch: number of files, total bytes; per file: bytes;
- extensions: the formats ingest reads, plus .zip;
- content: a file whose bytes do not match its extension (an executable or an
  archive renamed .txt, binary in .html, JSON that does not parse) is refused,
  by running the same reader the build will use (core.ingest);
- names: basename only, no separators or control characters, no leading dot,
  NFKC-normalised, length-limited, unique within the batch;
- zip archives: members are written under their safe basename only, so no path
  can escape the folder; ``..``, absolute paths, drive letters, symbolic links,
  encrypted and nested archives are refused; the member count, the unpacked size
  and the compression ratio are bounded (zip bombs).

``build_upload`` then rebuilds the store from the sources its manifest records
plus the new folder, as a new version (core.store.save_dataset is atomic);
``rebuild_store`` does the same without an upload (the "Rebuild" button).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import shutil
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from core import extract_entities, ingest, yamlio
from core.errors import DyadError, IngestError, StoreError
from core.pipeline import Dataset, ProgressFn, build_dataset
from core.store import is_store, read_manifest, save_dataset

try:  # POSIX only; without it concurrent uploads are not serialised
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

ZIP_EXTENSION = ".zip"
ALLOWED_EXTENSIONS = (*ingest.SUPPORTED_EXTENSIONS, ZIP_EXTENSION)
RESOURCE = Path(__file__).parent / "resources" / "uploads.yaml"
_MB = 1024 * 1024


class UploadError(DyadError):
    """A whole upload batch was refused (too many files, too large, nothing usable)."""


class Rejected(NamedTuple):
    """A refused upload or archive member: the name as given (for display) and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class UploadLimits:
    max_files: int = 50  # files in one upload (an archive counts as one)
    max_total_bytes: int = 100 * _MB  # the uploaded bytes of one batch
    max_file_bytes: int = ingest.MAX_FILE_BYTES  # one article file, uploaded or unpacked
    max_unpacked_bytes: int = 200 * _MB  # everything written for one batch
    max_zip_members: int = 2000  # entries (files and folders) in one archive
    max_zip_ratio: float = 100.0  # unpacked / packed size of one member
    max_name_bytes: int = 150  # UTF-8 bytes of a saved name (filesystems stop at 255)


DEFAULT = UploadLimits()


@dataclass
class UploadBatch:
    """What ``receive`` kept (paths inside ``folder``) and what it refused."""

    folder: Path | None  # None when nothing was accepted (the folder is removed)
    accepted: list[Path] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


@dataclass(frozen=True)
class _Rules:
    signatures: tuple[tuple[str, bytes], ...]
    system_names: frozenset[str]
    reserved: frozenset[str]


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    own = yamlio.safe_load(RESOURCE.read_text(encoding="utf-8"))
    shared = yamlio.safe_load(ingest.RESOURCE.read_text(encoding="utf-8"))
    sigs = {**shared.get("binary_signatures", {}), **own["binary_signatures"]}
    return _Rules(
        signatures=tuple((name, bytes.fromhex(h)) for name, h in sigs.items()),
        system_names=frozenset(n.casefold() for n in own["system_names"]),
        reserved=frozenset(n.upper() for n in own["reserved_names"]),
    )


# ---------------------------------------------------------------------------
# Names

_SEPARATORS = re.compile(r"[/\\]")
_UNSAFE = re.compile(r"[^\w.()\- ]+")  # \w is Unicode-aware: accents and scripts stay
_RUNS = re.compile(r"[ _]{2,}")
_EDGES = " ._-"


def _visible(name: str, limit: int = 200) -> str:
    """A name fit for a report: control and format characters (RTL overrides) removed."""
    text = "".join(c if unicodedata.category(c)[0] != "C" else "?" for c in name)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_name(name: str, max_bytes: int = DEFAULT.max_name_bytes) -> str:
    """A file name that is safe to create: basename only, no leading dot, length-limited.

    NFKC runs first so look-alike separators ("／", "＼") become real ones and are cut.
    The extension is kept (lower-cased); an empty stem becomes "upload".
    """
    text = unicodedata.normalize("NFKC", name)
    text = _SEPARATORS.split(text)[-1]
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    text = _RUNS.sub("_", _UNSAFE.sub("_", text)).strip(_EDGES)
    stem, dot, ext = text.rpartition(".")
    if not dot or not ext.isalnum():
        stem, ext = text, ""
    ext = ext.lower()[:10]
    stem = stem.strip(_EDGES) or "upload"
    if stem.split(".")[0].upper() in _rules().reserved:
        stem = f"_{stem}"
    room = max(16, max_bytes - len(ext) - 1)
    stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(_EDGES) or "upload"
    return f"{stem}.{ext}" if ext else stem


def _unique(name: str, used: set[str]) -> str:
    """``name`` or ``name-2``, ``name-3``... unused in the batch (case-insensitively)."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.casefold() in used:
        n += 1
        candidate = f"{stem}-{n}.{ext}" if ext else f"{stem}-{n}"
    used.add(candidate.casefold())
    return candidate


# ---------------------------------------------------------------------------
# One batch


def _new_folder(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for _ in range(5):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        folder = root / f"{stamp}-{secrets.token_hex(6)}"
        try:
            folder.mkdir(mode=0o750)
            return folder
        except FileExistsError:  # 48 random bits: practically never
            continue
    raise UploadError("could not create a new upload folder", root)


def _write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (never through a link, never over an existing file) with ``data``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o640)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


class _Receiver:
    def __init__(self, folder: Path, limits: UploadLimits) -> None:
        self.folder = folder
        self.limits = limits
        self.used: set[str] = set()
        self.written = 0
        self.accepted: list[Path] = []
        self.rejected: list[Rejected] = []

    def reject(self, label: str, reason: str) -> None:
        self.rejected.append(Rejected(_visible(label), reason))

    def add_upload(self, name: str, data: bytes) -> None:
        label = name
        clean = safe_name(name, self.limits.max_name_bytes)
        ext = Path(clean).suffix.lower()
        if ext not in ALLOWED_EXTENSIONS:
            shown = f"'{ext}' files are" if ext else "files without an extension are"
            self.reject(label, f"{shown} not accepted (allowed: {', '.join(ALLOWED_EXTENSIONS)})")
        elif ext == ZIP_EXTENSION:
            self.add_zip(label, data)
        else:
            self.add_file(label, clean, data)

    def add_file(self, label: str, clean: str, data: bytes) -> None:
        lim = self.limits
        ext = Path(clean).suffix.lower()
        if not data:
            return self.reject(label, "file is empty")
        if len(data) > lim.max_file_bytes:
            return self.reject(label, f"file is {len(data) / _MB:.1f} MB, over the "
                                      f"{lim.max_file_bytes / _MB:g} MB limit")
        if self.written + len(data) > lim.max_unpacked_bytes:
            return self.reject(label, f"the upload would unpack to more than "
                                      f"{lim.max_unpacked_bytes / _MB:g} MB")
        for kind, sig in _rules().signatures:
            if data.startswith(sig):
                return self.reject(label, f"content is a {kind}, not a {ext} file")
        # Check with the very reader the build uses, on a hidden name the build skips.
        staging = self.folder / f".check-{secrets.token_hex(6)}{ext}"
        _write_new(staging, data)
        try:
            docs, _skipped = ingest.read_file_with_skips(staging)
            if not docs:
                raise IngestError("no article could be read from it", staging)
        except IngestError as exc:
            staging.unlink(missing_ok=True)
            return self.reject(label, exc.reason)
        except Exception as exc:  # a parser surprise refuses this file, not the batch
            staging.unlink(missing_ok=True)
            return self.reject(label, f"could not be read: {type(exc).__name__}")
        final = self.folder / _unique(clean, self.used)
        os.replace(staging, final)  # same folder, name unused: nothing is overwritten
        self.written += len(data)
        self.accepted.append(final)

    def add_zip(self, label: str, data: bytes) -> None:
        lim = self.limits
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            members = archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
            return self.reject(label, "not a readable ZIP archive")
        if len(members) > lim.max_zip_members:
            return self.reject(label, f"ZIP archive has {len(members)} entries, over the "
                                      f"limit of {lim.max_zip_members}")
        declared = sum(m.file_size for m in members)
        if declared > lim.max_unpacked_bytes:
            return self.reject(label, f"ZIP archive would unpack to {declared / _MB:.0f} MB, "
                                      f"over the {lim.max_unpacked_bytes / _MB:g} MB limit")
        with archive:
            for info in members:
                self.add_member(archive, info, f"{label}/{info.filename}")

    def add_member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> None:
        lim = self.limits
        problem = _member_problem(info)
        if problem:
            return self.reject(label, problem)
        if info.is_dir():
            return None
        clean = safe_name(_SEPARATORS.split(info.filename)[-1], lim.max_name_bytes)
        ext = Path(clean).suffix.lower()
        if ext == ZIP_EXTENSION:
            return self.reject(label, "archive inside an archive: not extracted")
        if ext not in ingest.SUPPORTED_EXTENSIONS:
            shown = f"'{ext}' files are" if ext else "files without an extension are"
            return self.reject(label, f"{shown} not extracted (allowed: "
                                      f"{', '.join(ingest.SUPPORTED_EXTENSIONS)})")
        if info.file_size > lim.max_file_bytes:
            return self.reject(label, f"unpacks to {info.file_size / _MB:.1f} MB, over the "
                                      f"{lim.max_file_bytes / _MB:g} MB limit")
        if info.file_size > lim.max_zip_ratio * max(info.compress_size, 1):
            return self.reject(label, f"compressed more than {lim.max_zip_ratio:g} to 1: "
                                      "looks like a zip bomb")
        try:
            with archive.open(info) as fh:  # read at most what the header declares, plus one
                content = fh.read(min(info.file_size, lim.max_file_bytes) + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError,
                OSError, ValueError) as exc:
            return self.reject(label, f"cannot be extracted: {_visible(str(exc), 120)}")
        if len(content) > info.file_size or len(content) > lim.max_file_bytes:
            return self.reject(label, "unpacks to more than its header declares")
        return self.add_file(label, clean, content)


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why an archive member is refused before reading it, or None."""
    name = info.filename
    parts = [p for p in _SEPARATORS.split(name) if p]
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "absolute path: not extracted"
    if ".." in parts:
        return "path leads outside the archive ('..'): not extracted"
    if "\x00" in name:
        return "name contains a NUL character: not extracted"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "symbolic link: not extracted"
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "not a regular file: not extracted"
    if info.flag_bits & 0x1:
        return "encrypted: not extracted"
    if any(p.startswith(".") or p.casefold() in _rules().system_names for p in parts):
        return "hidden or system file: not extracted"
    return None


def receive(files: Sequence[tuple[str, bytes]], uploads_root: Path,
            limits: UploadLimits = DEFAULT) -> UploadBatch:
    """Save one upload batch into a new folder under ``uploads_root``; see the module doc.

    Raises UploadError (nothing written) when the batch as a whole breaks a limit.
    Files and archive members that fail a check are listed in ``rejected``.
    """
    if not files:
        raise UploadError("no files were uploaded")
    if len(files) > limits.max_files:
        raise UploadError(f"{len(files)} files in one upload; the limit is {limits.max_files}")
    total = sum(len(data) for _, data in files)
    if total > limits.max_total_bytes:
        raise UploadError(f"the upload is {total / _MB:.1f} MB; the limit is "
                          f"{limits.max_total_bytes / _MB:g} MB")
    folder = _new_folder(Path(uploads_root))
    receiver = _Receiver(folder, limits)
    try:
        for name, data in files:
            receiver.add_upload(name, data)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if not receiver.accepted:
        shutil.rmtree(folder, ignore_errors=True)
        return UploadBatch(None, [], receiver.rejected)
    return UploadBatch(folder, receiver.accepted, receiver.rejected)


# ---------------------------------------------------------------------------
# Building


def recorded_sources(store_dir: str | Path) -> list[str]:
    """The sources the store was built from (none when there is no store yet).

    A store whose manifest cannot be read raises StoreError: rebuilding without its
    sources would silently drop every article it holds.
    """
    store = Path(store_dir)
    if is_store(store):
        return [str(s) for s in read_manifest(store).get("sources", [])]
    # Traces of a store whose manifest is gone (vs. a new folder that may hold uploads/).
    if (store / "versions").exists() or (store / "current").is_symlink() \
            or any(store.glob("*.parquet")):
        raise StoreError("the store's build.json cannot be found, so its sources are unknown; "
                         "refusing to rebuild without them", store)
    return []


@contextlib.contextmanager
def _store_lock(store: Path) -> Iterator[None]:
    """One build per store at a time: two analysts uploading at once must not lose a batch."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    store.parent.mkdir(parents=True, exist_ok=True)
    with open(store.parent / f".{store.name}.lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def rebuild_store(store_dir: str | Path, extra_sources: Sequence[str | Path] = (), *,
                  backend: str = extract_entities.DEFAULT_BACKEND,
                  progress: ProgressFn | None = None, jobs: int = 1,
                  cache_dir: str | Path | None = None) -> Dataset:
    """Rebuild the store from its recorded sources plus ``extra_sources``, as a new version.

    The build runs in memory and save_dataset switches versions atomically, so an
    exception or a kill at any point leaves the previous store as it was. Builds of
    one store are serialised, and the sources are read under the lock, so two
    analysts saving at the same moment both keep their articles.
    """
    store = Path(store_dir)
    with _store_lock(store):
        sources = recorded_sources(store)
        for extra in extra_sources:
            new = str(Path(extra).resolve())
            if new not in sources:
                sources.append(new)
        if not sources:
            raise StoreError("the store records no sources to rebuild from", store)
        ds = build_dataset(sources, on_error="collect", backend=backend, progress=progress,
                           jobs=jobs, cache_dir=cache_dir)
        save_dataset(ds, store)
    return ds


def build_upload(batch: UploadBatch, store_dir: str | Path, *,
                 backend: str = extract_entities.DEFAULT_BACKEND,
                 progress: ProgressFn | None = None, jobs: int = 1,
                 cache_dir: str | Path | None = None) -> Dataset:
    """Build the store's recorded sources plus the batch folder into a new store version."""
    if batch.folder is None or not batch.accepted:
        raise UploadError("nothing to build: no file of this upload was accepted")
    return rebuild_store(store_dir, [batch.folder], backend=backend, progress=progress,
                         jobs=jobs, cache_dir=cache_dir)
