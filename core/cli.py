"""Command line: ``python -m core build SRC... --out DIR`` and ``python -m core stats DIR``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from core.errors import ConfigError, DyadError
from core.interop.cli import register as register_interop

EXIT_OK, EXIT_ERROR, EXIT_NOTHING_BUILT = 0, 1, 2


class _Progress:
    """A tqdm bar on stderr that appears only after a second and only on a terminal."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._bars: dict[str, object] = {}
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int, total: int, stage: str) -> None:
        if not self.enabled:
            return
        bar = self._bars.get(stage)
        if bar is None:
            bar = self._bars[stage] = self._tqdm(
                total=total, desc=stage, unit="doc", delay=1.0, file=sys.stderr, leave=False
            )
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()


def _build(args: argparse.Namespace) -> int:
    if args.scheduler and args.engine != "dask":
        raise ConfigError("--scheduler needs --engine dask")
    t0 = time.perf_counter()
    cache = None if args.no_cache else (args.cache or f"{args.out.rstrip('/')}.cache")
    ahead = None
    if args.engine != "dask" and cache is not None:
        from core.ahead import started

        # A rebuild's entity backend gets ready while the libraries below load.
        ahead = started(args.jobs, args.backend, cache)

    import pandas as pd

    from core.pipeline import Dataset, build_dataset, rare_collections
    from core.store import NewVersion, save_dataset

    progress = _Progress() if not args.quiet else None
    version: NewVersion | None = None

    def write(name: str, df: pd.DataFrame, kept: tuple[str, set[str]] | None) -> None:
        nonlocal version  # each frame is written as soon as it is made
        version = version or NewVersion(args.out)
        version.write(name, df, kept)

    def save(ds: Dataset) -> None:
        nonlocal version
        if progress:
            progress.close()
        done, version = version, None
        if not len(ds.documents):  # an empty build writes nothing (reported below)
            if done is not None:
                done.discard()
            return
        with rare_collections():
            if done is not None:
                done.commit(ds.manifest)
            else:
                save_dataset(ds, args.out)

    try:
        if args.engine == "dask":
            from core.distributed import build_dataset_dask

            # The workers hold no cache: each build does every document.
            ds = build_dataset_dask(
                args.sources, scheduler=args.scheduler, backend=args.backend, progress=progress
            )
            save(ds)
        else:
            # The store is written while the build updates its cache.
            ds = build_dataset(
                args.sources, backend=args.backend, progress=progress, jobs=args.jobs,
                cache_dir=cache, then=save, on_frame=write, ahead=ahead,
            )
    finally:
        if ahead is not None:
            ahead.close()
        if progress:
            progress.close()
        if version is not None:  # the build failed after frames were handed over
            version.discard()
    for err in ds.errors:
        print(f"error: {err['file']}: {err['reason']}", file=sys.stderr)
    if len(ds.documents) == 0:
        print("error: no document was built; nothing written", file=sys.stderr)
        return EXIT_NOTHING_BUILT
    c = ds.counts()
    print(
        f"built {c['documents']} documents, {c['mentions']} mentions, {c['entities']} entities, "
        f"{c['events']} events, {c['edges']} edges in {time.perf_counter() - t0:.1f}s "
        f"({len(ds.errors)} errors) -> {args.out}",
        file=sys.stderr,
    )
    return EXIT_OK


def _stats(args: argparse.Namespace) -> int:
    from core.store import load_dataset

    ds = load_dataset(args.store)
    m = ds.manifest
    print(f"store     {args.store}")
    print(f"built     {m.get('built_at', '?')} "
          f"(dyad {m.get('version', '?')}, backend {m.get('backend', '?')})")
    for name, n in ds.counts().items():
        print(f"{name:<10}{n:>8}")
    print(f"{'errors':<10}{len(ds.errors):>8}")
    return EXIT_OK


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Dyad: news -> events")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build a store from article files and folders")
    b.add_argument("sources", nargs="+", help="files or folders (read recursively)")
    b.add_argument("--out", required=True, help="store folder to write")
    b.add_argument("--backend", default="rules", help="'rules' (default) or 'spacy:<pipeline>'")
    b.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all)"
    )
    b.add_argument(
        "--engine", choices=("local", "dask"), default="local",
        help="'local' (default: processes on this machine) or 'dask' (a Dask cluster)",
    )
    b.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)",
    )
    b.add_argument("--cache", help="per-document cache folder (default: OUT.cache)")
    b.add_argument("--no-cache", action="store_true", help="redo every document")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=_build)
    s = sub.add_parser("stats", help="print the counts of a store")
    s.add_argument("store", help="store folder")
    s.set_defaults(func=_stats)
    register_interop(sub)  # import gdelt|acled|plover, export
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except DyadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
