"""A process that gets the entity backend ready while a rebuild does other work.

Starting the rules backend (spaCy and the gazetteer matchers) takes about a second,
as long as the rest of a 10,000-article rebuild that adds one article. So when a
rebuild may use worker processes, one is forked at once, before Dyad's data
libraries are even imported; it readies the backend while this process loads the
snapshot and lists the files, then annotates the new articles (when they are few).

Forked, so it starts with what this process has imported; it is only started from a
process with no other threads, where forking is safe. If it fails in any way, the
build annotates the articles itself. This module imports nothing heavy.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import threading
from contextlib import suppress
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class Ahead:
    def __init__(self, backend: str, cache_dir: str | Path) -> None:
        self.backend, self.cache_dir = backend, str(cache_dir)
        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_main, args=(child, backend, self.cache_dir),
                                 name="dyad-annotate", daemon=True)
        self._proc.start()
        child.close()
        self._used = False

    @staticmethod
    def possible(jobs: int) -> bool:
        """Whether a build with ``jobs`` workers may fork one now."""
        return (jobs > 1 and threading.active_count() == 1
                and "fork" in multiprocessing.get_all_start_methods())

    def serves(self, backend: str, cache_dir: str | Path) -> bool:
        return not self._conn.closed and (backend, Path(cache_dir).resolve()) == (
            self.backend, Path(self.cache_dir).resolve())

    def annotate(self, docs: list) -> list | None:
        """core.pipeline._annotate_chunk(docs) in the process; None if it fails there."""
        self._used = True
        try:
            self._conn.send(docs)
            ok, result = self._conn.recv()
        except (OSError, EOFError, pickle.PickleError) as exc:
            log.warning("the annotating process failed (%s); annotating here", exc)
            return None
        if not ok:
            from core.errors import ConfigError

            if isinstance(result, ConfigError):
                raise result
            log.warning("the annotating process failed (%s); annotating here", result)
            return None
        return result

    def close(self) -> None:
        if self._conn.closed:
            return
        if self._used:  # it waits for more: tell it to leave
            with suppress(OSError):
                self._conn.send(None)
            self._proc.join(timeout=1)
        self._conn.close()
        if self._proc.is_alive():  # unused (maybe still getting ready), or stuck
            self._proc.kill()
        self._proc.join()


def _main(conn: Any, backend: str, cache_dir: str) -> None:
    import gc

    gc.set_threshold(100_000, 50, 100)  # as core.pipeline.rare_collections
    try:
        with suppress(Exception):  # a bad backend is reported when annotating
            from core import extract_entities

            extract_entities.ready(backend)
        from core.pipeline import _annotate_chunk

        while (docs := conn.recv()) is not None:
            try:
                conn.send((True, _annotate_chunk(docs, backend, cache_dir)))
            except Exception as exc:
                conn.send((False, exc))
    except (EOFError, OSError, KeyboardInterrupt):
        pass  # the build ended or was interrupted


def started(jobs: int, backend: str, cache_dir: str | Path) -> Ahead | None:
    """An Ahead for a rebuild with this cache folder, if one is possible and the folder
    holds a snapshot (checked loosely here: the build checks it is usable)."""
    # core.snapshot.FOLDER / META, named here so as not to import core.snapshot.
    if not Ahead.possible(jobs) or not (Path(cache_dir) / "snapshot" / "meta.json").is_file():
        return None
    return Ahead(backend, cache_dir)
