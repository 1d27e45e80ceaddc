"""Date expressions in a sentence -> calendar dates, resolved against the publication date.

A small regex resolver rather than dateparser: it only has to know the handful of forms
news copy uses ("on Tuesday", "last month", "Dec. 8", "July 9, 2025", "over the weekend"),
and it is deterministic and costs microseconds per sentence.

Rules (an analyst should be able to predict every result):

* An absolute date ("July 9, 2025", "9 July 2025", "2025-07-09") resolves without a
  publication date, precision ``day``; "December 2024" is precision ``month``; "in 2024"
  precision ``year``.
* A relative expression needs the publication date ``published``: "yesterday" is the day
  before; "on Tuesday" is the most recent Tuesday on or before ``published`` (a Tuesday
  article saying "on Tuesday" means that day); "over the weekend" is the Saturday of the
  most recent weekend; "last week" is seven days before at precision ``month`` (a week is
  not a day); "last month" / "last year" give the first day of that month / year at
  precision ``month`` / ``year``; "N days ago" precision ``day``.
* A day and month without a year ("Dec. 8") take a year written in the same text, else the
  most recent such date on or before ``published``.
* Anaphoric expressions ("later that month", "the same day", "the next day") take the
  previous date found in the same text (or the ``anchor`` given by the caller).
* Without a publication date a relative expression resolves to ``None`` with precision
  ``unknown``: a date is never invented, and never taken from today's clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

UNKNOWN = "unknown"

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}
_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "several": None, "few": None,
}

# Month names are matched case-sensitively (capitalised) so the modal "may" and the verb
# "march" are not months; everything else is case-insensitive via (?i:...).
_MON = (
    r"(?P<{g}>January|February|March|April|May|June|July|August|September|October|"
    r"November|December|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept\.?|Sep\.?|"
    r"Oct\.?|Nov\.?|Dec\.?)"
)
_ORD = r"(?:st|nd|rd|th)?"
_YEAR = r"(?P<{g}>(?:19|20)\d\d)"
_WD = r"(?P<{g}>(?i:monday|tuesday|wednesday|thursday|friday|saturday|sunday))"
_NUM = r"(?P<{g}>\d{{1,2}}|(?i:a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|few))"

_FORMS: list[tuple[str, str]] = [
    ("iso", r"\b(?P<iso_y>\d{4})-(?P<iso_m>\d{2})-(?P<iso_d>\d{2})\b"),
    ("mdy", _MON.format(g="mdy_m") + r"\s+(?P<mdy_d>\d{1,2})" + _ORD + r",?\s+"
     + _YEAR.format(g="mdy_y") + r"\b"),
    ("dmy", r"\b(?P<dmy_d>\d{1,2})" + _ORD + r"\s+(?i:of\s+)?" + _MON.format(g="dmy_m")
     + r",?\s+" + _YEAR.format(g="dmy_y") + r"\b"),
    ("my", r"(?:(?i:early|mid|late)[\s-]+)?" + _MON.format(g="my_m") + r",?\s+"
     + _YEAR.format(g="my_y") + r"\b"),
    ("md", _MON.format(g="md_m") + r"\s+(?P<md_d>\d{1,2})" + _ORD + r"\b(?!\s*,?\s*\d)"),
    ("dm", r"\b(?P<dm_d>\d{1,2})" + _ORD + r"\s+(?i:of\s+)?" + _MON.format(g="dm_m")
     + r"(?![\w.]*,?\s+\d)"),
    ("anaphor", r"(?i:\b(?:later|earlier)\s+that\s+(?P<ana_u>day|week|month|year)\b"
     r"|\b(?:that|the\s+same)\s+(?P<ana_u2>day|month|year)\b"
     r"|\bthe\s+(?:next|following)\s+(?P<ana_next>day)\b)"),
    ("weekday", r"(?i:\b(?P<wd_last>last\s+|this\s+|past\s+)?)" + _WD.format(g="wd")
     + r"(?i:\s+(?:morning|afternoon|evening|night))?\b"),
    ("deictic", r"(?i:\b(?P<dx_w>yesterday|today|tonight|tomorrow)\b)"),
    ("weekend", r"(?i:\b(?:over|during|at)\s+the\s+weekend\b|\b(?:last|this|past)\s+weekend\b)"),
    ("rel", r"(?i:\b(?:(?:earlier|later)\s+)?(?P<rel_w>last|this|past|next|previous)\s+"
     r"(?P<rel_u>week|month|year)\b)"),
    ("ago", r"(?i:\b" + _NUM.format(g="ago_n") + r"\s+(?P<ago_u>day|week|month|year)s?\s+ago\b)"),
    ("lastmon", r"(?i:\b(?P<lm_w>last|this|in|since|early|late|mid)[\s-]+)"
     + _MON.format(g="lm_m") + r"\b(?!\s*\d)"),
    ("inyear", r"(?i:\b(?:in|during|early|late|mid)[\s-]+)" + _YEAR.format(g="iy_y") + r"\b"),
]

_RX = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in _FORMS))


@dataclass(frozen=True)
class DateMention:
    """One date expression found in a text and what it resolves to."""

    start: int  # offsets into the text given to find_dates
    end: int
    text: str
    date: date | None
    precision: str  # day / month / year / unknown
    relative: bool  # needed the publication date (or an anchor)


def _month_of(word: str) -> int:
    return _MONTHS[word.lower().rstrip(".")]


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _year_for(month: int, day: int, published: date | None, year_hint: int | None) -> int | None:
    """Year of a day-month without year: the hint, else most recent on/before published."""
    if year_hint is not None:
        return year_hint
    if published is None:
        return None
    cand = _safe_date(published.year, month, min(day, 28) if month == 2 and day == 29 else day)
    if cand is not None and cand > published:
        return published.year - 1
    return published.year


def _shift_month(d: date, months: int) -> date:
    idx = d.year * 12 + d.month - 1 + months
    return date(idx // 12, idx % 12 + 1, 1)


def _resolve(m: re.Match[str], published: date | None, year_hint: int | None,
             anchor: tuple[date, str] | None) -> tuple[date | None, str, bool]:
    kind = m.lastgroup
    g = m.groupdict()
    if kind == "iso":
        d = _safe_date(int(g["iso_y"]), int(g["iso_m"]), int(g["iso_d"]))
        return d, ("day" if d else UNKNOWN), False
    if kind == "mdy":
        d = _safe_date(int(g["mdy_y"]), _month_of(g["mdy_m"]), int(g["mdy_d"]))
        return d, ("day" if d else UNKNOWN), False
    if kind == "dmy":
        d = _safe_date(int(g["dmy_y"]), _month_of(g["dmy_m"]), int(g["dmy_d"]))
        return d, ("day" if d else UNKNOWN), False
    if kind == "my":
        return date(int(g["my_y"]), _month_of(g["my_m"]), 1), "month", False
    if kind == "inyear":
        return date(int(g["iy_y"]), 1, 1), "year", False
    if kind in ("md", "dm"):
        month = _month_of(g[f"{kind}_m"])
        day = int(g[f"{kind}_d"])
        year = _year_for(month, day, published, year_hint)
        d = _safe_date(year, month, day) if year else None
        return d, ("day" if d else UNKNOWN), year_hint is None
    if kind == "anaphor":
        if anchor is None:
            return None, UNKNOWN, True
        base, prec = anchor
        if g["ana_next"]:
            if prec != "day":
                return None, UNKNOWN, True
            return base + timedelta(days=1), "day", True
        unit = g["ana_u"] or g["ana_u2"]
        if unit == "week":
            unit = "month"
        order = ("day", "month", "year")
        if prec not in order:
            return None, UNKNOWN, True
        # "later that month" after a day keeps only the month; never sharpen precision.
        out = order[max(order.index(unit), order.index(prec))]
        if out == "month":
            return date(base.year, base.month, 1), out, True
        if out == "year":
            return date(base.year, 1, 1), out, True
        return base, out, True
    if published is None:
        return None, UNKNOWN, True
    if kind == "weekday":
        wd = _WEEKDAYS[g["wd"].lower()]
        delta = (published.weekday() - wd) % 7
        if delta == 0 and g["wd_last"] and g["wd_last"].strip().lower() in ("last", "past"):
            delta = 7
        return published - timedelta(days=delta), "day", True
    if kind == "deictic":
        word = g["dx_w"].lower()
        offset = {"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1}[word]
        return published + timedelta(days=offset), "day", True
    if kind == "weekend":
        return published - timedelta(days=(published.weekday() - 5) % 7), "day", True
    if kind == "rel":
        which = g["rel_w"].lower()
        step = {"last": -1, "past": -1, "previous": -1, "this": 0, "next": 1}[which]
        unit = g["rel_u"].lower()
        if unit == "week":
            return published + timedelta(days=7 * step), "month", True
        if unit == "month":
            return _shift_month(published, step), "month", True
        return date(published.year + step, 1, 1), "year", True
    if kind == "ago":
        n = _NUMBERS.get(g["ago_n"].lower()) if not g["ago_n"].isdigit() else int(g["ago_n"])
        unit = g["ago_u"].lower()
        if n is None:  # "several days ago": we know the month at best
            return published - timedelta(days=3), "month", True
        if unit == "day":
            return published - timedelta(days=n), "day", True
        if unit == "week":
            return published - timedelta(days=7 * n), "month", True
        if unit == "month":
            return _shift_month(published, -n), "month", True
        return date(published.year - n, 1, 1), "year", True
    if kind == "lastmon":
        month = _month_of(g["lm_m"])
        year = published.year  # "in May": the most recent May, whatever years are near
        if (month > published.month or
                                  (g["lm_w"].lower() == "last" and month == published.month)):
            year -= 1
        return date(year, month, 1), "month", True
    return None, UNKNOWN, True


_YEAR_HINT = re.compile(
    r"(?<!since )(?<!from )(?<!until )(?<!after )(?<!before )\b((?:19|20)\d\d)\b"
)
_CUE_DIGIT = re.compile(r"\d")
_ALPHA = re.compile(r"[a-z]+")
# Words without which no expression of _FORMS can match (digits aside).
_CUE_WORDS = frozenset(
    [*_WEEKDAYS, *_MONTHS, "yesterday", "today", "tonight", "tomorrow", "weekend", "week",
     "month", "year", "ago", "day"]
)


def find_dates(text: str, published: date | None = None,
               anchor: tuple[date, str] | None = None) -> list[DateMention]:
    """Every date expression of ``text`` (a sentence), resolved; in text order.

    ``anchor`` is an earlier (date, precision) the text may refer back to ("that month").
    """
    if isinstance(published, datetime):
        published = published.date()  # a timestamp counts as its calendar day
    if not _CUE_DIGIT.search(text) and not _CUE_WORDS.intersection(_ALPHA.findall(text.lower())):
        return []  # most sentences name no date: skip the full scan
    hints = {int(y) for y in _YEAR_HINT.findall(text)}  # "Dec. 8 ... 2024": that year
    year_hint = hints.pop() if len(hints) == 1 else None
    out: list[DateMention] = []
    for m in _RX.finditer(text):
        d, prec, relative = _resolve(m, published, year_hint, anchor)
        out.append(DateMention(m.start(), m.end(), m.group(0), d, prec, relative))
        if d is not None:
            anchor = (d, prec)
    return out


def resolve_date(expression: str, published: date | None = None) -> tuple[date | None, str]:
    """(date, precision) of a single expression; (None, "unknown") if it names no date."""
    found = find_dates(expression, published)
    if not found:
        return None, UNKNOWN
    return found[0].date, found[0].precision
