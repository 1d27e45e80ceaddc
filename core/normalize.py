"""Text normalisation shared by the stages: diacritic folding and comparison keys.

Names reach us spelled many ways (Kalın / Kalin, Güler / Guler, Organisation /
Organization, Türkiye’s / Türkiye's). Everything that compares names goes through
these helpers so that the rules are the same everywhere.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

import yaml

from core import yamlio
from core.errors import ConfigError

_RESOURCES = Path(__file__).parent / "resources"

# Letters NFKD does not decompose into base + mark; Turkish dotless ı is the one that
# matters most (Kalın), İ decomposes to I + dot above but is listed for clarity.
_SPECIAL = str.maketrans(
    {
        "ı": "i", "İ": "I", "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O",
        "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "œ": "oe", "Œ": "OE", "þ": "th",
        "Þ": "Th", "ð": "d", "Ð": "D",
        "’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'",
        "‐": "-", "‑": "-", "–": "-", "—": "-",
    }
)
_SPACES = re.compile(r"\s+")
_KEY_PUNCT = re.compile(r"[-'\".,()\[\]/]+")
_TURKISH_CHARS = frozenset("çğıöşüÇĞİÖŞÜ")


def fold(text: str) -> str:
    """Remove diacritics, keep case: 'Kalın' -> 'Kalin', 'Türkiye’s' -> "Turkiye's"."""
    if text.isascii():
        return text
    text = text.translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def turkish_upper(text: str) -> str:
    """Upper-case with Turkish rules (i -> İ), as Turkish headlines write 'TÜRKİYE'."""
    return text.replace("i", "İ").upper()


def has_turkish_letters(text: str) -> bool:
    return any(c in _TURKISH_CHARS for c in text)


@functools.lru_cache(maxsize=1)
def _spelling() -> dict[str, str]:
    path = _RESOURCES / "spelling.yaml"
    try:
        data = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read spelling variants: {exc}", path) from exc
    return {str(k).lower(): str(v).lower() for k, v in data.items()}


@functools.lru_cache(maxsize=65536)
def norm_key(text: str) -> str:
    """Comparison key: folded, lower case, punctuation-free, American spelling.

    'National Intelligence Organisation' and 'national intelligence organization'
    give the same key; so do 'Kalın' and 'KALIN', 'al-Sudani' and 'al Sudani'.
    """
    low = fold(text).lower()
    spelling = _spelling()
    words = [spelling.get(w, w) for w in _SPACES.split(low) if w]
    low = " ".join(words)
    low = _KEY_PUNCT.sub(" ", low)
    words = [spelling.get(w, w) for w in low.split()]
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    return " ".join(words)


# Arabic articles glued to names: "Bashar al-Assad" and "Bashar Assad" are one person.
_NAME_ARTICLES = frozenset({"al", "el"})


def person_words(text: str) -> list[str]:
    """Words of a personal name for comparison: folded, lower case, articles dropped."""
    return [w for w in norm_key(text).split() if w not in _NAME_ARTICLES]


def person_key(text: str) -> str:
    """Cluster key of a personal name ('PER:bashar assad')."""
    return "PER:" + " ".join(person_words(text))


def is_blank(text: str | None) -> bool:
    """True for None, empty or whitespace-only strings (never a valid entity name)."""
    return text is None or not text.strip()
