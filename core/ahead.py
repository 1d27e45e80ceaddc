"""A process that gets the entity backend ready while a rebuild does other work.

Starting the rules backend (spaCy and the gazetteer matchers) takes about a second,
a third of a rebuild of 10,000 articles that adds one. So when a rebuild may use
worker processes, one is forked at the start (the command line does it before even
importing Dyad's data libraries): it readies the backend while this process loads
the snapshot and lists the files, annotates the new articles (when they are few),
loads the event lexicon while this process resolves the entities, then codes the
events of the articles that need it (core.pipeline._ahead_stage).

Forked, so it starts with what this process has imported; it is only started from a
process with no other threads, where forking is safe. If it fails in any way, the
build does the work itself. This module imports nothing heavy.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Thresholds of the cyclic garbage collector in a build's processes (this one, the
# workers', core.pipeline.rare_collections): a build makes millions of objects and
# almost no cycles. Here, as this module imports nothing heavy.
RARE_GC = (100_000, 50, 100)


class Ahead:
    """The forked process, for one build with one backend and cache folder."""

    def __init__(self, backend: str, cache_dir: str | Path) -> None:
        self.backend, self.cache_dir = backend, str(cache_dir)
        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_main, args=(child, backend),
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

    def call(self, fn: Callable[..., Any], *args: Any) -> Any | None:
        """``fn(*args)`` in the process (``fn`` must pickle); None if it failed there
        (then, or once it is closed, every call is None: the build does the work)."""
        if self._conn.closed:
            return None
        self._used = True
        try:
            self._conn.send((fn, args))
            ok, result = self._conn.recv()
        except (OSError, EOFError, pickle.PickleError) as exc:
            ok, result = False, exc
        if not ok:
            from core.errors import ConfigError

            if isinstance(result, ConfigError):
                raise result
            log.warning("the process readied for this build failed (%s); "
                        "the build goes on without it", result)
            self.close()
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


def _main(conn: Any, backend: str) -> None:
    import gc

    gc.set_threshold(*RARE_GC)  # before the backend's many objects are made
    try:
        with suppress(Exception):  # a bad backend is reported when annotating
            from core import extract_entities

            extract_entities.ready(backend)
        import core.pipeline  # noqa: F401  (what the calls run: loaded before they come)

        ready_for_events = False
        while (msg := conn.recv()) is not None:
            fn, args = msg
            try:
                conn.send((True, fn(*args)))
            except Exception as exc:
                conn.send((False, exc))
            if not ready_for_events:  # while the build resolves the entities
                from core import extract_events

                with suppress(Exception):  # a broken lexicon is reported when coding
                    extract_events.ready()
                ready_for_events = True
    except (EOFError, OSError, KeyboardInterrupt):
        pass  # the build ended or was interrupted


def started(jobs: int, backend: str, cache_dir: str | Path) -> Ahead | None:
    """An Ahead for a rebuild with this cache folder, if one is possible and the folder
    holds a snapshot (checked loosely here: the build checks it is usable)."""
    # core.snapshot.FOLDER / META, named here so as not to import core.snapshot.
    if not Ahead.possible(jobs) or not (Path(cache_dir) / "snapshot" / "meta.json").is_file():
        return None
    return Ahead(backend, cache_dir)
