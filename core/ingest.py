"""Files -> Document records (txt, md, html, json/jsonl, csv); boilerplate; dates.

Every reader ends in `_build`, so all formats share one cleaning path:
decode (BOM, UTF-8, else charset detection) -> repair mojibake (ftfy, only when a
cheap check sees it) -> NFC + whitespace -> boilerplate lines dropped and trailing
blocks cut by the patterns in resources/boilerplate.yaml -> headline, dateline.

Choices worth knowing:
- `text` keeps the headline once when the source had it in the body (a plain-text
  scrape starts with it); repeats of the headline or dek are dropped. Titles that
  come from metadata (JSON field, front matter, og:title) are not prepended.
- Without a headline-like first line, the title is the first sentence, cut at a
  clause boundary (or a word, with "…") when longer than title_max_chars.
- `published` comes only from explicit dates in the file; never today's date.
- doc_id hashes a fingerprint of the body (case-folded, whitespace collapsed, the
  leading headline left out), so the same article in a .txt and a .json is one id.
- Multi-article files (JSON list, JSONL, CSV) name each article "path#n", n counted
  from 1 (list item, JSONL line, CSV data row). Bad items are skipped and logged
  while at least one item builds; `read_file_with_skips` returns them to callers
  that want to report them. When no item builds, the first item's reason is raised.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import charset_normalizer
import ftfy
import lxml.html
import yaml
from lxml import etree

from core import yamlio
from core.errors import ConfigError, IngestError
from core.ids import stable_id
from core.model import Document

log = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS = (".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".csv")
FORMATS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".json": "json",
           ".jsonl": "jsonl", ".csv": "csv"}
MAX_FILE_BYTES = 20 * 1024 * 1024  # checked via stat before reading
_MB = 1024 * 1024
RESOURCE = Path(__file__).parent / "resources" / "boilerplate.yaml"


# ---------------------------------------------------------------------------
# Files and folders


def _identity(path: Path) -> tuple[int, int] | str:
    """What makes two paths the same file: device and inode (one stat, links followed)."""
    try:
        st = path.stat()
    except OSError:
        return os.path.realpath(path)
    return (st.st_dev, st.st_ino)


def iter_source_files(sources: Iterable[str | Path]) -> Iterator[Path | IngestError]:
    """Expand files and folders (recursively, sorted) into files to read.

    Hidden files and folders (".git", ".DS_Store") are skipped; a file reached twice
    (a folder and a file inside it) is yielded once. A path that does not exist or
    cannot be listed yields an IngestError in its place.
    """
    seen: set[tuple[int, int] | str] = set()
    for src in sources:
        p = Path(src)
        if p.is_dir():
            problems: list[IngestError] = []
            found: list[Path] = []

            def onerror(exc: OSError, problems: list[IngestError] = problems,
                        top: Path = p) -> None:
                problems.append(IngestError(f"folder cannot be listed: {_os_reason(exc)}",
                                            exc.filename or top))

            for root, dirs, files in os.walk(p, onerror=onerror):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                found.extend(Path(root) / f for f in files if not f.startswith("."))
            # Path order (part by part), with the parts made once per path, not per comparison.
            for f in sorted(found, key=lambda f: f.parts):
                key = _identity(f)
                if key in seen:
                    continue
                seen.add(key)
                # Only a path stat could not follow may be a broken link.
                if isinstance(key, str) and f.is_symlink() and not f.exists():
                    yield IngestError("broken link: the file it points to does not exist", f)
                else:
                    yield f
            yield from problems
        elif p.is_file():
            key = _identity(p)
            if key not in seen:
                seen.add(key)
                yield p
        elif p.is_symlink():
            yield IngestError("broken link: the file it points to does not exist", p)
        else:
            yield IngestError("no such file or folder", p)


def read_file(path: Path) -> list[Document]:
    """Read one file into its articles. Raises IngestError naming the file and reason."""
    docs, skipped = read_file_with_skips(path)
    if skipped:
        log.warning("%s: skipped %d of %d articles (first: %s)", path, len(skipped),
                    len(skipped) + len(docs), skipped[0].reason)
    return docs


def read_file_with_skips(path: Path) -> tuple[list[Document], list[IngestError]]:
    """Like read_file, but also return the items of a multi-article file that were skipped."""
    path = Path(path)
    try:
        return _read(path)
    except IngestError:
        raise
    except RecursionError:
        raise IngestError("too deeply nested to read", path) from None
    except MemoryError:
        raise IngestError("too large to read into memory", path) from None
    except Exception as exc:  # a surprise in a parser must still name the file
        raise IngestError(f"could not read: {type(exc).__name__}: {exc}", path) from exc


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    return exc.strerror or type(exc).__name__


def _read(path: Path) -> tuple[list[Document], list[IngestError]]:
    try:
        st = path.stat()
    except FileNotFoundError:
        reason = "broken link: the file it points to does not exist" if path.is_symlink() \
            else "no such file"
        raise IngestError(reason, path) from None
    except OSError as exc:
        raise IngestError(f"cannot open: {_os_reason(exc)}", path) from None
    if stat.S_ISDIR(st.st_mode):
        raise IngestError("is a folder, not a file", path)
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
        raise IngestError("not a regular file", path)
    ext = path.suffix.lower()
    if ext not in FORMATS:
        shown = f"'{path.suffix}'" if path.suffix else "(no extension)"
        raise IngestError(f"unsupported file type {shown} (supported: "
                          f"{', '.join(SUPPORTED_EXTENSIONS)})", path)
    if st.st_size > MAX_FILE_BYTES:
        raise IngestError(f"file is {st.st_size / _MB:.1f} MB, over the "
                          f"{MAX_FILE_BYTES // _MB} MB limit", path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)  # the file may grow after stat
    except OSError as exc:
        raise IngestError(f"cannot read: {_os_reason(exc)}", path) from None
    if len(data) > MAX_FILE_BYTES:
        raise IngestError(f"file is over the {MAX_FILE_BYTES // _MB} MB limit", path)
    if not data:
        raise IngestError("file is empty", path)
    fmt = FORMATS[ext]
    raw = _decode(data, path, html=fmt == "html")
    if not raw.strip():
        raise IngestError("file has no text (only whitespace)", path)
    reader = _READERS[fmt]
    return reader(raw, path, fmt)


# ---------------------------------------------------------------------------
# Resources (loaded and compiled once)


@dataclass(frozen=True)
class _Rules:
    settings: dict[str, int]
    drop: re.Pattern[str]
    header_drop: re.Pattern[str]
    trailing: re.Pattern[str]
    datelines: tuple[re.Pattern[str], ...]
    months: dict[str, int]
    fields: dict[str, tuple[str, ...]]  # normalised keys
    field_names: dict[str, tuple[str, ...]]  # as written, for messages
    json_list_keys: tuple[str, ...]
    json_value_keys: tuple[str, ...]
    html: dict[str, Any]
    signatures: tuple[tuple[str, bytes], ...]
    abbrev_end: re.Pattern[str]  # "Dec." or "U.S." before a space is not a sentence end


def _alternation(entries: list[Any]) -> re.Pattern[str]:
    parts = []
    for e in entries:
        pat, case = (e, "insensitive") if isinstance(e, str) else (e["pattern"],
                                                                    e.get("case", ""))
        parts.append(f"(?:{pat})" if case == "sensitive" else f"(?i:{pat})")
    return re.compile("|".join(parts) or r"(?!)")


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    try:
        cfg = yamlio.safe_load(RESOURCE.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:  # a broken install, not a bad article
        raise ConfigError(f"boilerplate patterns cannot be loaded: {exc}", RESOURCE) from exc
    pre, suf = cfg["dateline_prefix"], cfg["dateline_suffix"]
    html = dict(cfg["html"])
    for key in ("drop_tags", "block_tags", "drop_roles", "drop_class_tokens"):
        html[key] = frozenset(html[key])
    return _Rules(
        settings=dict(cfg["settings"]),
        drop=_alternation(cfg["drop_lines"]),
        header_drop=_alternation(cfg["header_drop_lines"]),
        trailing=_alternation(cfg["trailing_block_starts"]),
        datelines=tuple(re.compile(f"{pre}(?:{p}){suf}", re.I) for p in cfg["datelines"]),
        months={k.lower(): int(v) for k, v in cfg["months"].items()},
        fields={k: tuple(_key(n) for n in v) for k, v in cfg["fields"].items()},
        field_names={k: tuple(map(str, v)) for k, v in cfg["fields"].items()},
        json_list_keys=tuple(_key(k) for k in cfg["json_list_keys"]),
        json_value_keys=tuple(cfg["json_value_keys"]),
        html=html,
        signatures=tuple((name, bytes.fromhex(h)) for name, h in
                         cfg["binary_signatures"].items()),
        abbrev_end=re.compile(r"(?:\b[A-Z]|\b(?:"
                              + "|".join(re.escape(str(a)) for a in cfg["abbreviations"])
                              + r"))\.$"),
    )


def _key(name: str) -> str:
    """Field-name key: case-insensitive, spaces/underscores/hyphens ignored."""
    return re.sub(r"[\s_\-]+", "", str(name)).casefold()


# ---------------------------------------------------------------------------
# Bytes -> str

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# When detection ties, prefer the encodings Western and Turkish news come in.
_PREFERRED = ("cp1252", "cp1254", "iso8859_15", "latin_1", "cp1250", "iso8859_9")
# Letters that are rare in news text: when a cp1252 reading has them and another
# candidate does not, the other one (often cp1254, Turkish) is the real encoding.
_RARE = re.compile("[þðýÞÐÝ¤¦¨´¸¹³²ª]")
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""",
                           re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")


def _decode(data: bytes, path: Path, html: bool = False) -> str:
    for bom, enc in _BOMS:
        if data.startswith(bom):
            # A truncated last character is common; replacement marks count as damage.
            return _check_text(data.decode(enc, "replace"), path)
    for name, sig in _rules().signatures:
        if data.startswith(sig):
            raise IngestError(f"not text: looks like binary data ({name})", path)
    if b"\x00" in data:
        enc = _utf16_without_bom(data)
        if enc is None:
            raise IngestError("not text: looks like binary data", path)
        try:
            return _check_text(data.decode(enc), path)
        except UnicodeDecodeError:
            raise IngestError("not text: looks like binary data", path) from None
    try:
        return _check_text(data.decode("utf-8"), path)
    except UnicodeDecodeError:
        pass
    if html:  # a declared charset beats a guess
        m = _META_CHARSET.search(data[:4096])
        if m:
            try:
                return _check_text(data.decode(m.group(1).decode("ascii")), path)
            except (LookupError, UnicodeDecodeError):
                pass
    return _check_text(_guess_decode(data, path), path)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM shows NULs in every other byte of ASCII-heavy text."""
    sample = data[:4096]
    even, odd = sample[0::2], sample[1::2]
    if not even or not odd:
        return None
    zero_even, zero_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zero_odd > 0.7 and zero_even < 0.1:
        return "utf-16-le"
    if zero_even > 0.7 and zero_odd < 0.1:
        return "utf-16-be"
    return None


def _guess_decode(data: bytes, path: Path) -> str:
    sample = data[:200_000]
    matches = charset_normalizer.from_bytes(sample)
    if not matches:
        raise IngestError("not text: looks like binary data (no text encoding fits)", path)
    best_chaos = min(m.chaos for m in matches)
    tied = [m for m in matches if m.chaos <= best_chaos + 0.02]
    candidates: list[str] = []
    for m in tied:
        for enc in [m.encoding, *m.could_be_from_charset]:
            if enc not in candidates:
                candidates.append(enc)

    def rank(enc: str) -> tuple[int, int, int]:
        try:
            text = sample.decode(enc, errors="replace")
        except LookupError:
            return (1 << 30, 0, 0)
        # the sample's last character may be cut in half; elsewhere a failure counts
        rare = len(_RARE.findall(text)) + 1000 * text.count("\ufffd", 0, len(text) - 2)
        pref = _PREFERRED.index(enc) if enc in _PREFERRED else len(_PREFERRED)
        return (rare, pref, candidates.index(enc))

    best = min(candidates, key=rank)
    try:
        return data.decode(best, errors="replace")  # the guess came from a sample
    except LookupError:
        return data.decode("cp1252", errors="replace")


def _check_text(text: str, path: Path) -> str:
    """Decoded but full of control characters: binary renamed as text."""
    if not text:
        return text
    bad = len(_CONTROL.findall(text[:100_000]))
    if bad >= 2 and bad / min(len(text), 100_000) > 0.01:
        raise IngestError("not text: looks like binary data", path)
    return text


# ---------------------------------------------------------------------------
# str -> clean str

_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, explain=False)
_FTFY_NO_HTML = ftfy.TextFixerConfig(uncurl_quotes=False, explain=False, unescape_html=False)
# Mojibake (UTF-8 read as cp1252/latin-1: "TÃ¼rkiye", "Ä±"), C1 controls, ligatures,
# fullwidth forms and HTML entities: ftfy is slow, so it runs only when one is seen.
_NEEDS_FTFY = re.compile(
    "[\u0080-\u009f\ufb00-\ufb06\uff01-\uff5e]"
    "|[\u00c0-\u00ff][\u00a0-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013-\u203a\u20ac\u2122]"
    "|&(?:#\\d{2,7}|#x[0-9a-fA-F]{2,6}|[a-zA-Z]{2,8});"
)
_SPACES = {c: " " for c in [0x09, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000]}
_BREAKS = {c: "\n" for c in (0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029)}
_GONE = {c: None for c in [*range(0x00, 0x09), *range(0x0E, 0x1C), 0x1F, 0x7F,
                           *range(0x80, 0xA0), 0x00AD, 0x200B, 0x2060, 0xFEFF]}
_TRANSLATE = {**_GONE, **_SPACES, **_BREAKS}
# str.translate walks every character; a regex search skips clean text much faster.
_ODD_CHARS = re.compile("[" + "".join(re.escape(chr(c)) for c in _TRANSLATE) + "]")
_CONTROL_CHARS = re.compile("[" + "".join(re.escape(chr(c)) for c in _GONE) + "]")
_MULTISPACE = re.compile(r" {2,}")
_LINE_EDGES = re.compile(r" *\n *")
_MANY_BREAKS = re.compile(r"\n{3,}")


def _normalise(raw: str, html_escapes: bool = True) -> str:
    """Repair encoding damage, NFC, one space between words, at most one blank line."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if _NEEDS_FTFY.search(text):
        text = ftfy.fix_text(text, _FTFY if html_escapes else _FTFY_NO_HTML)
    if _ODD_CHARS.search(text):
        text = text.translate(_TRANSLATE)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = _LINE_EDGES.sub("\n", _MULTISPACE.sub(" ", text))
    return _MANY_BREAKS.sub("\n\n", text).strip()


# ---------------------------------------------------------------------------
# Dates


def _make_date(y: int, m: int, d: int) -> date | None:
    if not 1900 <= y <= 2100:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _date_from_match(m: re.Match[str]) -> date | None:
    g = m.groupdict()
    if g.get("mon"):
        month = _rules().months.get(g["mon"].lower().rstrip("."))
        if month is None:
            return None
    else:
        month = int(g["m"])
    return _make_date(int(g["y"]), month, int(g["d"]))


def _dateline(line: str) -> tuple[date, str] | None:
    """A line that is only a date (maybe "Published:", weekday, time) -> (date, rest)."""
    if len(line) > 120 or not _DIGIT.search(line):
        return None
    for pat in _rules().datelines:
        m = pat.fullmatch(line)
        if m:
            d = _date_from_match(m)
            if d is not None:
                return d, (m.groupdict().get("rest") or "").strip()
    return None


_DIGIT = re.compile(r"\d")
_ISO_START = re.compile(r"\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_COMPACT = re.compile(r"\s*(\d{4})(\d{2})(\d{2})\s*")


def parse_date(value: Any) -> date | None:
    """An explicit date from a metadata value (ISO string, "July 9, 2025", epoch); else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):
        secs = value / 1000 if value > 1e11 else value  # epoch in milliseconds
        try:
            return _make_date(*datetime.fromtimestamp(secs, tz=UTC).timetuple()[:3])
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()[:200]
    m = _ISO_START.match(text)
    if m:
        return _make_date(int(m[1]), int(m[2]), int(m[3]))
    m = _COMPACT.fullmatch(text)
    if m:
        return _make_date(int(m[1]), int(m[2]), int(m[3]))
    for pat in _rules().datelines[1:]:  # search: "Wed, 09 Jul 2025 10:00:00 +0000"
        for found in pat.finditer(text):
            d = _date_from_match(found)
            if d is not None:
                return d
    return None


# ---------------------------------------------------------------------------
# Boilerplate, headline, dateline: the shared cleaning step


@dataclass
class _Clean:
    text: str
    title: str | None  # a headline found at the top of the text
    published: date | None


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")
_CLAUSE = re.compile(r",\s|\s[—–-]\s|;\s|:\s")


def _words(line: str) -> int:
    return len(line.split())


def _is_kicker(line: str) -> bool:
    """A section label at the top: "TÜRKİYE", "WORLD NEWS"."""
    return line.isupper() and _words(line) <= 2 and len(line) <= 25


def _is_headline(line: str) -> bool:
    n = _words(line)
    if not 2 <= n <= 30 or len(line) > 200 or not any(ch.isalpha() for ch in line):
        return False
    if line.endswith((".", ",", ";", ":")) and not line.endswith("..."):
        return False
    return _SENTENCE_END.search(line) is None  # one line, one sentence


def _first_sentence(text: str) -> str:
    line = text.split("\n", 1)[0]
    for m in _SENTENCE_END.finditer(line):
        if not _rules().abbrev_end.search(line, 0, m.start()):
            return line[: m.start()].strip()
    return line


def _shorten_title(text: str) -> str:
    limit = _rules().settings["title_max_chars"]
    title = text.strip()
    if title.endswith(".") and not title.endswith("..."):
        title = title[:-1]
    if len(title) <= limit:
        return title
    clauses = [m.start() for m in _CLAUSE.finditer(title, 0, limit) if m.start() >= 40]
    if clauses:
        return title[: clauses[-1]].rstrip()
    cut = title.rfind(" ", 0, limit)
    return title[: cut if cut > 20 else limit].rstrip(" ,;:-") + "…"


def _clean(raw: str, html_escapes: bool = True) -> _Clean:
    rules = _rules()
    cfg = rules.settings
    lines = _normalise(raw, html_escapes).split("\n")

    # A trailing block (related headlines, site footer) ends the article, but only
    # after some body text: a marker at the very top loses just its own line.
    body_seen = False
    early_markers: set[int] = set()
    for i, line in enumerate(lines):
        if line and rules.trailing.fullmatch(line):
            if body_seen:
                lines = lines[:i]
                break
            early_markers.add(i)
        elif _words(line) >= cfg["min_body_words_before_cut"]:
            body_seen = True
    if early_markers:
        lines = [ln for i, ln in enumerate(lines) if i not in early_markers]

    published: date | None = None
    headline: str | None = None
    seen: set[str] = set()
    kept: list[str] = []
    started = False  # has a line of the article been kept yet?
    nonempty = 0
    for line in lines:
        if not line:
            kept.append(line)
            continue
        nonempty += 1
        in_header = nonempty <= cfg["header_lines"]
        if rules.drop.fullmatch(line):
            continue
        if in_header:
            found = _dateline(line)
            if found is not None:  # a dateline is metadata: used once, then dropped
                published = published or found[0]
                rest = found[1]
                if not rest or _words(rest) <= cfg["kicker_max_words"] or rest.isupper():
                    continue
                line = rest
            if rules.header_drop.fullmatch(line) or (not started and _is_kicker(line)):
                continue
        key = line.casefold()
        if key in seen and _words(line) >= cfg["min_words_dedupe"]:
            continue  # headline or dek scraped twice: keep the first
        seen.add(key)
        if in_header and not started and _is_headline(line):
            headline = line
        kept.append(line)
        started = True
    text = _MANY_BREAKS.sub("\n\n", "\n".join(kept)).strip()
    text = "\n\n".join(_unwrap(block, cfg) for block in text.split("\n\n"))
    return _Clean(text=text, title=headline, published=published)


_SENTENCE_END = re.compile(r"[.!?:;\"”’')\]]$")


def _unwrap(block: str, cfg: dict[str, Any]) -> str:
    """Join a hard-wrapped paragraph's lines; leave blocks of real lines alone."""
    lines = block.split("\n")
    if len(lines) < cfg["wrap_min_lines"]:
        return block
    wrapped = sum(
        1 for line in lines[:-1]
        if len(line) >= cfg["wrap_min_chars"] and not _SENTENCE_END.search(line)
    )
    if wrapped * 3 < (len(lines) - 1) * 2:  # fewer than two in three lines run on
        return block
    return " ".join(line.strip() for line in lines)


_FP_MAP = {"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "..."}
_FP_CHARS = re.compile("[" + "".join(_FP_MAP) + "]")
_FP_SPACE = re.compile(r"\s+")


def _fingerprint(text: str, title: str) -> str:
    """What doc_id hashes: the body regardless of case, spacing, quotes and headline."""
    first, _, rest = text.partition("\n")
    if title and first.strip().casefold() == title.casefold() and rest.strip():
        text = rest
    text = _FP_CHARS.sub(lambda m: _FP_MAP[m.group()], unicodedata.normalize("NFKC", text))
    text = text.casefold()
    return _FP_SPACE.sub(" ", text).strip()


def _clean_title(value: Any) -> str | None:
    text = _text_value(value)
    if text is None:
        return None
    if _LOOKS_HTML.search(text):
        text = _html_fragment_text(text)
    title = _MULTISPACE.sub(" ", _normalise(text).replace("\n", " ")).strip()
    return title or None


def _safe_url(value: Any) -> str | None:
    """Only web links: an article string must not become a javascript: link downstream."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if re.match(r"https?://[^\s<>\"']+$", url, re.I) and len(url) <= 2000:
        return url
    return None


def _build(raw: str, source: str, fmt: str, *, title: str | None = None,
           published: date | None = None, url: str | None = None,
           html_escapes: bool = True) -> Document:
    """Clean one article's raw text and metadata into a Document; IngestError if no text."""
    cleaned = _clean(raw, html_escapes=html_escapes)
    if not cleaned.text:
        raise IngestError("no article text left after removing boilerplate", source)
    if not any(ch.isalnum() for ch in cleaned.text):
        raise IngestError("no article text: no words, only symbols", source)
    final_title = (title or cleaned.title or _shorten_title(_first_sentence(cleaned.text))
                   or cleaned.text.split("\n", 1)[0][:80])
    return Document(
        doc_id=stable_id(_fingerprint(cleaned.text, final_title)),
        source=source,
        title=final_title,
        text=cleaned.text,
        published=published or cleaned.published,
        url=url,
        sources=[source],
        format=fmt,
    )


# ---------------------------------------------------------------------------
# Readers


def _read_txt(raw: str, path: Path, fmt: str) -> tuple[list[Document], list[IngestError]]:
    return [_build(raw, str(path), fmt)], []


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_MD_TARGET = r"\((?:[^()\n]|\([^()\n]*\))*\)"  # (url), allowing one level of (parens)
_MD_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.M), r) for p, r in (
        (r"^[ \t]*(```|~~~).*$", ""),  # code fences (the code stays)
        (r"^[ \t]*([-*_=])(?:[ \t]*\1){2,}[ \t]*$", ""),  # rules and setext underlines
        (r"^[ \t]*\[[^\]\n]+\]:[ \t]*\S+.*$", ""),  # reference link definitions
        # table separator rows
        (r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$", ""),
        (r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", r"\1"),  # ATX headings
        (r"^(?:[ \t]*>)+[ \t]?", ""),  # block quotes
        (r"^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+", ""),  # list markers
        (rf"!\[[^\]\n]*\]{_MD_TARGET}", ""),  # images
        (r"!\[[^\]\n]*\]\[[^\]\n]*\]", ""),
        (rf"\[([^\]\n]+)\]{_MD_TARGET}", r"\1"),  # [text](url)
        (r"\[([^\]\n]+)\]\[[^\]\n]*\]", r"\1"),  # [text][ref]
        (r"<(https?://[^>\s]+)>", r"\1"),  # autolinks
        (r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>\n]*)?/?>", ""),  # inline HTML tags
        (r"`([^`\n]+)`", r"\1"),
        (r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2"),
        (r"(?<![\w*\\])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"\1"),
        (r"(?<![\w\\])_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)", r"\1"),
        (r"~~(?=\S)(.+?)(?<=\S)~~", r"\1"),
        (r"\\([\\`*_{}\[\]()#+\-.!>|~])", r"\1"),  # backslash escapes
    )
)
_MD_H1 = re.compile(r"^[ \t]{0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$|^([^\n]+)\n=+[ \t]*$", re.M)


def _read_md(raw: str, path: Path, fmt: str) -> tuple[list[Document], list[IngestError]]:
    raw = raw.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    meta: dict[str, Any] = {}
    m = _FRONT_MATTER.match(raw)
    if m:
        raw = raw[m.end():]
        try:
            loaded = yaml.safe_load(m.group(1))
        except yaml.YAMLError:
            loaded = None  # unreadable front matter: the body still counts
        if isinstance(loaded, dict):
            meta = {_key(k): v for k, v in loaded.items()}
    fields = _rules().fields
    title = _clean_title(_pick(meta, fields["title"]))
    if title is None:
        h1 = _MD_H1.search(raw)
        if h1:
            title = _clean_title(_strip_markdown(h1.group(1) or h1.group(2)))
    body = _strip_markdown(raw)
    doc = _build(body, str(path), fmt, title=title,
                 published=parse_date(_pick(meta, fields["published"])),
                 url=_safe_url(_pick(meta, fields["url"])))
    return [doc], []


def _strip_markdown(text: str) -> str:
    for pat, repl in _MD_RULES:
        text = pat.sub(repl, text)
    return text


# HTML ----------------------------------------------------------------------

_LOOKS_HTML = re.compile(r"<(?:p|br|div|span|a|b|i|em|strong|h[1-6]|li|ul|ol)\b[^>]*>", re.I)
_WS = re.compile(r"\s+")
_PARA = "\n\n"


def _parse_html(raw: str) -> Any:
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    # Control characters make lxml refuse the text; they are never content anyway.
    if _CONTROL_CHARS.search(raw):
        raw = raw.translate(_GONE)
    data = raw.encode("utf-8", "replace")
    try:
        return lxml.html.document_fromstring(data, parser=parser)
    except (etree.LxmlError, ValueError):
        return None


_TOKEN_SPLIT = re.compile(r"[\s_\-]+")


def _is_widget(el: Any, root_chars: int, rules: dict[str, Any]) -> bool:
    """A share bar, related-links box or ad slot, told by its class/id/role.

    A match holding most of the container's text is the article itself
    ("article-body comments-enabled"), so it stays.
    """
    if (el.get("role") or "").lower() in rules["drop_roles"]:
        return True
    names = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
    if not names.strip() or rules["drop_class_tokens"].isdisjoint(_TOKEN_SPLIT.split(names)):
        return False
    return len(el.text_content()) < 0.5 * root_chars


def _html_text(root: Any) -> str:
    """Text of an element with block elements as paragraphs (iterative: no recursion limit)."""
    rules = _rules().html
    drop, blocks = rules["drop_tags"], rules["block_tags"]
    root_chars = len(root.text_content())
    out: list[str] = []
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        el, closing = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else None
        tag = tag.lower() if tag else None
        if closing:
            if tag in blocks:
                out.append(_PARA)
            if el is not root and el.tail:
                out.append(_WS.sub(" ", el.tail))
            continue
        if (tag is None or tag in drop or tag == "br"
                or (el is not root and _is_widget(el, root_chars, rules))):
            if tag == "br":
                out.append("\n")
            if el is not root and el.tail:
                out.append(_WS.sub(" ", el.tail))
            continue
        if tag in blocks:
            out.append(_PARA)
        if el.text:
            out.append(_WS.sub(" ", el.text))
        stack.append((el, True))
        stack.extend((child, False) for child in reversed(el))
    return "".join(out)


def _html_fragment_text(fragment: str) -> str:
    root = _parse_html(f"<html><body><div>{fragment}</div></body></html>")
    return _html_text(root) if root is not None else fragment


def _meta_map(root: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for el in root.iter("meta"):
        content = el.get("content")
        if not content or not content.strip():
            continue
        for attr in ("property", "name", "itemprop"):
            key = (el.get(attr) or "").strip().lower()
            if key and key not in found:
                found[key] = content.strip()
    return found


def _json_ld(root: Any) -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = []
    for script in root.xpath('//script[contains(translate(@type, "LDJSON", "ldjson"), '
                             '"ld+json")]'):
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        pending = [data]
        while pending and len(objs) < 50:
            item = pending.pop(0)
            if isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, dict):
                objs.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list):
                    pending.extend(graph)
    return objs


def _first_text(root: Any, xpath: str) -> str | None:
    for el in root.xpath(xpath):
        text = _WS.sub(" ", el.text_content()).strip()
        if text:
            return text
    return None


def _strip_site_name(title: str, site: str | None) -> str:
    if site:
        for sep in (" | ", " - ", " – ", " — ", " · "):
            suffix = f"{sep}{site}"
            if title.casefold().endswith(suffix.casefold()) and len(title) > len(suffix):
                return title[: -len(suffix)].strip()
    if " | " in title:  # "Headline | Site | Section": the longest part is the headline
        return max(title.split(" | "), key=len).strip()
    return title


def _read_html(raw: str, path: Path, fmt: str) -> tuple[list[Document], list[IngestError]]:
    root = _parse_html(raw)
    if root is None:
        raise IngestError("HTML has no content", path)
    cfg = _rules().html
    meta = _meta_map(root)
    ld = _json_ld(root)
    site = next((meta[k] for k in cfg["site_name_meta"] if k in meta), None)

    # The article container first: its own h1 beats a logo h1 in the page header.
    text, body = "", None
    for xp in cfg["body_xpaths"]:
        candidates = [(t, el) for el in root.xpath(xp) if (t := _html_text(el)).strip()]
        if candidates:
            text, body = max(candidates, key=lambda c: len(c[0]))
            break
    if not text.strip():
        text = _html_text(root)
    if not text.strip():
        raise IngestError("HTML has no article text", path)

    h1 = (_first_text(body, ".//h1") if body is not None else None) or _first_text(root, "//h1")
    title = next((meta[k] for k in cfg["title_meta"] if k in meta), None)
    if title:
        title = _strip_site_name(title, site)
        if h1 and title.casefold().startswith(h1.casefold()):
            title = h1
    title = title or h1 or next((str(o["headline"]) for o in ld
                                 if isinstance(o.get("headline"), str)), None)
    if not title:
        head_title = _first_text(root, "//title")
        title = _strip_site_name(head_title, site) if head_title else None

    published = None
    for k in cfg["published_meta"]:
        if k in meta and (published := parse_date(meta[k])):
            break
    if published is None:
        published = next((d for o in ld if (d := parse_date(o.get("datePublished")))), None)
    if published is None:
        published = next((d for t in root.xpath("//time[@datetime]")
                          if (d := parse_date(t.get("datetime")))), None)

    url = next((u for k in cfg["url_meta"] if (u := _safe_url(meta.get(k)))), None)
    if url is None:
        url = next((u for link in root.xpath('//link[@href]')
                    if "canonical" in (link.get("rel") or "").lower().split()
                    and (u := _safe_url(link.get("href")))), None)

    doc = _build(text, str(path), fmt, title=_clean_title(title), published=published,
                 url=url, html_escapes=False)
    return [doc], []


# Structured: JSON, JSONL, CSV -----------------------------------------------


def _pick(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    """The first field among the synonyms (keys already normalised) with a value."""
    for name in names:
        value = record.get(name)
        if value not in (None, "", [], {}):
            return value
    return None


def _text_value(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "\n\n".join(value)  # a list of paragraphs
    if isinstance(value, dict):
        for k in _rules().json_value_keys:
            if isinstance(value.get(k), str):
                return value[k]
    return None


def _record_doc(record: dict[str, Any], source: str, fmt: str) -> Document:
    fields = _rules().fields
    rec = {_key(k): v for k, v in record.items()}
    raw_text = _pick(rec, fields["text"])
    if raw_text is None:
        raise IngestError(f"no text (looked for {_looked_for('text')})", source)
    text = _text_value(raw_text)
    if text is None:
        raise IngestError("the text field is not a string", source)
    if not text.strip():
        raise IngestError("the text field is empty", source)
    if _LOOKS_HTML.search(text):
        text = _html_fragment_text(text)
    return _build(text, source, fmt, title=_clean_title(_pick(rec, fields["title"])),
                  published=parse_date(_pick(rec, fields["published"])),
                  url=_safe_url(_text_value(_pick(rec, fields["url"]))))


def _looked_for(field_name: str) -> str:
    names = _rules().field_names[field_name]
    return ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")


def _collect(items: Iterable[tuple[str, Any]], fmt: str,
             path: Path) -> tuple[list[Document], list[IngestError]]:
    """Build every item; keep the failures as skips unless none builds."""
    docs: list[Document] = []
    skipped: list[IngestError] = []
    for source, item in items:
        try:
            if isinstance(item, IngestError):
                raise item
            if isinstance(item, str):
                docs.append(_build(item, source, fmt))
            elif isinstance(item, dict):
                docs.append(_record_doc(item, source, fmt))
            else:
                raise IngestError(f"not an article object but {type(item).__name__}", source)
        except IngestError as exc:
            skipped.append(exc)
    if not docs:
        if not skipped:
            raise IngestError("no articles in the file", path)
        first = skipped[0]
        if len(skipped) == 1:
            raise IngestError(first.reason, path)
        where = first.path.rsplit("#", 1)[-1] if first.path and "#" in first.path else "1"
        raise IngestError(f"no article could be read ({len(skipped)} tried); item {where}: "
                          f"{first.reason}", path)
    return docs, skipped


def _json_error(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at line {exc.lineno}: {exc.msg} (column {exc.colno})"
    return f"invalid JSON: {str(exc).split(';')[0]}"


def _read_json(raw: str, path: Path, fmt: str) -> tuple[list[Document], list[IngestError]]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise IngestError(_json_error(exc), path) from None
    if isinstance(data, dict):
        rec = {_key(k): v for k, v in data.items()}
        if _pick(rec, _rules().fields["text"]) is None:
            inner = next((rec[k] for k in _rules().json_list_keys
                          if isinstance(rec.get(k), list)), None)
            if inner is None:
                raise IngestError(f"JSON object has no text field (looked for "
                                  f"{_looked_for('text')})", path)
            data = inner
        else:
            return [_record_doc(data, str(path), fmt)], []
    if not isinstance(data, list):
        raise IngestError(f"JSON holds a {type(data).__name__}, not an article object or a "
                          "list of them", path)
    if not data:
        raise IngestError("JSON list is empty", path)
    return _collect(((f"{path}#{i}", item) for i, item in enumerate(data, 1)), fmt, path)


def _read_jsonl(raw: str, path: Path, fmt: str) -> tuple[list[Document], list[IngestError]]:
    def items() -> Iterator[tuple[str, Any]]:
        for n, line in enumerate(raw.split("\n"), 1):
            if not line.strip():
                continue
            source = f"{path}#{n}"
            try:
                yield source, json.loads(line)
            except ValueError as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                yield source, IngestError(f"invalid JSON at line {n}: {msg}", source)

    return _collect(items(), fmt, path)


_DELIMITERS = ",;\t|"


def _read_csv(raw: str, path: Path, fmt: str) -> tuple[list[Document], list[IngestError]]:
    raw = raw.lstrip("\ufeff")
    csv.field_size_limit(MAX_FILE_BYTES)  # long article bodies exceed the 128 KB default
    # The delimiter comes from the header line alone: article bodies are full of commas
    # and semicolons that fool a sniffer looking at whole rows.
    first = raw.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first.count) if any(d in first for d in _DELIMITERS) \
        else ","
    reader = csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter)
    rows: list[tuple[str, Any]] = []
    header: list[str] | None = None
    keys: list[str] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header, keys = row, [_key(h) for h in row]
                if not any(k in _rules().fields["text"] for k in keys):
                    shown = ", ".join(h.strip() for h in header[:12] if h.strip())
                    raise IngestError(f"CSV has no text column (looked for "
                                      f"{_looked_for('text')}; found: {shown})", path)
                continue
            source = f"{path}#{len(rows) + 1}"
            rows.append((source, {k: v for k, v in zip(keys, row, strict=False) if k}))
    except csv.Error as exc:
        source = f"{path}#{len(rows) + 1}"
        # The reader cannot resync after a broken row; what came before still counts.
        rows.append((source, IngestError(f"invalid CSV at line {reader.line_num}: {exc}",
                                         source)))
    if header is None:
        raise IngestError("CSV has no header row", path)
    if not rows:
        raise IngestError("CSV has a header but no rows", path)
    return _collect(rows, fmt, path)


_READERS = {"txt": _read_txt, "md": _read_md, "html": _read_html, "json": _read_json,
            "jsonl": _read_jsonl, "csv": _read_csv}
