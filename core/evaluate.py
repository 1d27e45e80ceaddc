"""``python -m core.evaluate entities|events [--backend NAME]``: scores on the dev sets."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.evaluate", add_help=False)
    parser.add_argument("what", choices=["entities", "events"])
    args, rest = parser.parse_known_args(argv)
    module = importlib.import_module(f"core.evaluation.{args.what}")
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
