"""Content-hash cache of per-document work, so a rebuild redoes only what changed.

Entries are pickles keyed by a hash of the input and of Dyad's own code and
resources (any change to either invalidates them). The cache is local working
data that Dyad wrote itself; it is never read from an untrusted place.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

_CORE = Path(__file__).resolve().parent


@cache
def code_fingerprint() -> str:
    """Hash of core's source and resource files: the cache's notion of 'same program'."""
    h = hashlib.blake2b(digest_size=8)
    for path in sorted(_CORE.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".csv", ".yaml", ".yml", ".json", ".txt"}:
            if "devsets" in path.parts or "__pycache__" in path.parts:
                continue
            h.update(str(path.relative_to(_CORE)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


class Cache:
    """A folder of pickled values; a missing or unreadable entry is a miss."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.stats: dict[str, dict[str, int]] = {}  # kind -> {"hits": n, "misses": n}

    def _path(self, kind: str, key: str) -> Path:
        return self.folder / kind / f"{key}.pkl"

    def get(self, kind: str, key: str) -> Any | None:
        try:
            with open(self._path(kind, key), "rb") as fh:
                value = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            self.count(kind, "misses")
            return None
        self.count(kind, "hits")
        return value

    def count(self, kind: str, what: str) -> None:
        """Tally a hit or a miss (also one a worker process found in this folder)."""
        counts = self.stats.setdefault(kind, {"hits": 0, "misses": 0})
        counts[what] += 1

    def put(self, kind: str, key: str, value: Any) -> None:
        path = self._path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a killed build never leaves a half-written entry.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
