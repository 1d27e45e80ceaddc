"""``python -m core import gdelt|acled|plover FILES --out DIR`` and
``python -m core export DIR --format FMT [--out PATH]``.

core/cli.py owns the parser; it calls ``register(subparsers)`` to add these two
sub-commands. ``main(argv)`` runs them on their own (tests, or before the wiring).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import DyadError

if TYPE_CHECKING:
    from core.pipeline import Dataset

EXIT_OK, EXIT_ERROR, EXIT_NOTHING_BUILT = 0, 1, 2
IMPORTERS = ("gdelt", "acled", "plover")


def _read(importer: str, files: list[str]) -> Dataset:
    if importer == "gdelt":
        from core.interop.gdelt import read_gdelt

        return read_gdelt(files)
    if importer == "acled":
        from core.interop.acled import read_acled

        return read_acled(files)
    from core.interop.export import read_plover

    return read_plover(files)


def _import(args: argparse.Namespace) -> int:
    from core.store import save_dataset

    t0 = time.perf_counter()
    ds = _read(args.importer, args.files)
    for err in ds.errors:
        print(f"error: {err['file']}: {err['reason']}", file=sys.stderr)
    for reason, n in ds.manifest.get("skipped", {}).items():
        print(f"skipped {n} rows: {reason}", file=sys.stderr)
    if len(ds.events) == 0 and len(ds.documents) == 0:
        print("error: nothing could be imported; nothing written", file=sys.stderr)
        return EXIT_NOTHING_BUILT
    out = save_dataset(ds, args.out)
    c = ds.counts()
    print(
        f"imported {c['documents']} documents, {c['entities']} entities, {c['events']} events, "
        f"{c['edges']} edges from {ds.manifest.get('rows', 0)} {args.importer} rows "
        f"in {time.perf_counter() - t0:.1f}s ({len(ds.errors)} errors) -> {out}",
        file=sys.stderr,
    )
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from core.interop.export import FORMATS, export
    from core.store import load_dataset

    ds = load_dataset(args.store)
    data = export(ds, args.format)
    if args.out in (None, "-"):
        if args.out is None and sys.stdout.isatty() and args.format == "parquet":
            print("error: Parquet is binary; give --out PATH", file=sys.stderr)
            return EXIT_ERROR
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return EXIT_OK
    out = Path(args.out)
    if out.is_dir():
        out = out / FORMATS[args.format].filename
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    except OSError as exc:
        print(f"error: {out}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"wrote {args.format} ({len(data)} bytes) -> {out}", file=sys.stderr)
    return EXIT_OK


class _Formats:
    """The export formats' names, read from core.interop.export (which loads pandas)
    only when a command line asks for them."""

    def _names(self) -> list[str]:
        from core.interop.export import FORMATS

        return list(FORMATS)

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``import`` and ``export`` sub-commands to core.cli's parser."""
    i = subparsers.add_parser(
        "import", help="import GDELT / ACLED / PLOVER files into a store",
        description="Read GDELT 2.0 Events/Mentions/GKG files (plain or .zip), ACLED CSV "
        "exports or PLOVER JSON Lines into a store the dashboard opens.",
    )
    i.add_argument("importer", choices=IMPORTERS, help="what the files are")
    i.add_argument("files", nargs="+", help="files or folders (read recursively)")
    i.add_argument("--out", required=True, help="store folder to write")
    i.set_defaults(func=_import)
    e = subparsers.add_parser(
        "export", help="export a store as CSV, JSON, Parquet, PLOVER, GEXF, GraphML, FtM",
    )
    e.add_argument("store", help="store folder")
    e.add_argument("--format", required=True, choices=_Formats(), metavar="FORMAT",
                   help="one of %(choices)s")
    e.add_argument("--out", help="file or folder to write (default: standard output)")
    e.set_defaults(func=_export)


def main(argv: Sequence[str] | None = None) -> int:
    """Run import/export without core.cli (same behaviour and exit codes)."""
    parser = argparse.ArgumentParser(prog="python -m core")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except DyadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
