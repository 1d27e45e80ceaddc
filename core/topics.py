"""Topic taxonomy (core/resources/topics.yaml) -> topic labels of a text.

Every keyword of every topic is compiled once per process into one alternation with a
named group per topic, so tagging a sentence is a single regex scan.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import yaml

from core import yamlio
from core.errors import ConfigError

TOPICS_PATH = Path(__file__).parent / "resources" / "topics.yaml"


def _keyword_rx(word: str) -> str:
    word = str(word).strip()
    stem, star = (word[:-1], True) if word.endswith("*") else (word, False)
    parts = [re.escape(p) for p in re.split(r"[\s]+", stem)]
    body = r"[\s-]+".join(parts)
    tail = r"[\w-]*" if star else ""
    return rf"(?<![\w-]){body}{tail}(?![\w])"


_Index = dict[str, list[tuple[re.Pattern[str], str]]]
_TOKEN = re.compile(r"(?<![\w-])[\w-]+")


def _prefix(word: str) -> str:
    return word[:3].lower()


@lru_cache(maxsize=1)
def _taxonomy() -> tuple[dict[str, str], _Index]:
    """Topic labels, and every keyword regex indexed by the first letters of its first word
    (a dictionary look-up per word of the text instead of one scan per keyword)."""
    try:
        data = yamlio.safe_load(TOPICS_PATH.read_text(encoding="utf-8"))
        topics = data["topics"]
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"cannot read topic taxonomy: {exc}", TOPICS_PATH) from exc
    labels: dict[str, str] = {}
    entries: list[tuple[int, str, str]] = []
    for tid, spec in topics.items():
        labels[tid] = spec.get("label", tid)
        for w in {str(w) for w in spec.get("keywords", [])}:
            entries.append((len(w), w, tid))
    index: _Index = {}
    for _, word, tid in sorted(entries, key=lambda e: (-e[0], e[1])):  # longest first
        rx = re.compile(_keyword_rx(word), re.IGNORECASE)
        index.setdefault(_prefix(word.split()[0].rstrip("*")), []).append((rx, tid))
    return labels, index


def topic_labels() -> dict[str, str]:
    """Topic id -> human label, in taxonomy order."""
    return dict(_taxonomy()[0])


def _hits(text: str) -> Counter[str]:
    _, index = _taxonomy()
    counts: Counter[str] = Counter()
    last_end = 0
    for tok in _TOKEN.finditer(text or ""):
        if tok.start() < last_end:
            continue
        word = tok.group(0).lower()
        for key in dict.fromkeys((word[:3], word[:2], word[:1])):
            for rx, tid in index.get(key, ()):
                m = rx.match(text, tok.start())
                if m:
                    counts[tid] += 1
                    last_end = m.end()
                    break
            else:
                continue
            break
    return counts


def topics_for(text: str) -> list[str]:
    """Topic ids the text (typically one sentence) is about, sorted."""
    return sorted(_hits(text))


def document_topics(text: str, min_hits: int = 2) -> list[str]:
    """Topic ids of a whole document: topics signalled at least ``min_hits`` times.

    A single stray keyword in a long article does not make it "about" a topic; a short
    text whose topics are all single hits keeps its most frequent one.
    """
    counts = _hits(text)
    chosen = [t for t, n in counts.items() if n >= min_hits]
    if not chosen and counts:
        chosen = [counts.most_common(1)[0][0]]
    return sorted(chosen)
