"""Throughput of entity extraction: prints words per second for a backend.

Usage: python bench/bench_entities.py [--backend rules] [--words 200000] [FILE ...]
Without files it builds a corpus by repeating the bundled seed articles and the
development-set texts (so the mix of names and plain prose is realistic).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.extract_entities import annotate  # noqa: E402
from core.model import Document  # noqa: E402


def _corpus(files: list[str], target_words: int) -> list[str]:
    if files:
        texts = [Path(f).read_text(encoding="utf-8") for f in files]
    else:
        texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
        devset = ROOT / "core" / "resources" / "devsets" / "entities.jsonl"
        texts.append("\n".join(json.loads(line)["text"] for line in
                               devset.read_text(encoding="utf-8").splitlines() if line.strip()))
    docs, words = [], 0
    while words < target_words:
        for t in texts:
            docs.append(t)
            words += len(t.split())
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="rules")
    parser.add_argument("--words", type=int, default=200_000)
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    docs = _corpus(args.files, args.words)
    annotate(Document("warmup", "bench", "", docs[0]), args.backend)  # load once
    n_words = sum(len(t.split()) for t in docs)
    n_mentions = 0
    start = time.perf_counter()
    for i, text in enumerate(docs):
        n_mentions += len(annotate(Document(f"d{i}", "bench", "", text), args.backend).mentions)
    elapsed = time.perf_counter() - start
    print(f"backend {args.backend}: {len(docs)} docs, {n_words} words, {n_mentions} mentions "
          f"in {elapsed:.2f} s -> {n_words / elapsed:,.0f} words/s (one process)")


if __name__ == "__main__":
    main()
