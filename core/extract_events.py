"""Sentences -> Event records (PLOVER type + mode, actor, target, place, date).

How one sentence becomes events:

1. Triggers: one precompiled regex built from core/resources/plover.yaml finds verbal and
   nominal triggers ("met with", "held talks", "spoke by phone", "launched a missile
   attack", "reiterated its full support") with their inflections. A trigger inside an
   entity name is ignored. A trigger that governs another ("refused to meet", "threatened
   to impose sanctions") absorbs it: REJECT / THREATEN with a mode, never the positive type.
   Negated ("did not meet") or hypothetical ("if ... would attack") triggers give nothing.
2. Participants: mentions are grouped into noun phrases ("Iraqi Prime Minister Mohammed
   Shia al-Sudani" is one phrase whose head is the person; "Iran's intelligence minister,
   Esmail Khatib" too). The actor is the nearest phrase left of the trigger in its clause
   that is not governed by a preposition (a passive "by X" gives the actor instead);
   pronouns ("He", "They", "It") and participial clauses ("..., followed by talks with B")
   take the actor of earlier sentences / the same sentence. Targets are the phrases right
   of the trigger, one event per coordinated target ("A, B and C"). A capital used as a
   government ("The Baghdad side") stands for its country (capitals from
   core/resources/countries.csv). A nominal trigger other than a meeting ("Israel's
   attack on", "Iran is a staunch supporter of") only counts with its actor right before
   it: "they discussed new sanctions against Moscow" reports no sanction.
   When ``ad.parse`` is a spaCy Doc with a dependency parse, the subject of the trigger's
   verb is preferred as actor.
3. Place: a place the sentence names after "in/at/near" (not "the situation in Syria"),
   else for meetings and material events the place of the same actor's earlier event in
   the document, else the dateline / lede place of the document; verbal events (accuse,
   support ...) only take a place the sentence names. Phone calls take none.
4. Date (core.dates): the date expression nearest the trigger (after it preferred: "met X
   on Monday"); without one, the day of the last dated event of the preceding sentences
   (the narrative time of the article: "... on Tuesday. Kalin first met ..."); without
   any, the publication date with precision "unknown" (the event was reported that day
   and happened on or before it; we do not claim the day). No publication date and no
   date expression: date None, precision "unknown".
5. Each event is kept once per document (same type, actor and target: the row with the
   most information wins); events whose actor is their target are dropped.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.dates import DateMention, find_dates
from core.errors import ConfigError
from core.ids import stable_id
from core.model import (
    COUNTRY,
    LOCATION,
    ORGANIZATION,
    PERSON,
    AnnotatedDocument,
    Entity,
    Event,
    Mention,
    Sentence,
)
from core.topics import topics_for

PLOVER_PATH = Path(__file__).parent / "resources" / "plover.yaml"
PLOVER_TYPES = (
    "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
    "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT",
)
_FUNCTION_WORDS = frozenset(
    "with to for on against of between into about over upon at from in by and or the a an"
    .split()
)
_DEMONYM_END = re.compile(r"(?:ians?|ans?|ish|ese|is?|ic|ch|ots?|ers?)$", re.IGNORECASE)
_WORD = re.compile(r"[\w'’.-]+|[(),;:&]")
_POSSESSIVE = re.compile(r"^\s*['’]s?\b")


# --------------------------------------------------------------------------- lexicon


@dataclass(frozen=True)
class _Trigger:
    type: str
    pattern: str
    mode: str | None = None
    complement: bool = False
    needs_target: bool = False
    nominal: bool = False
    confidence: float = 0.7
    target_preps: tuple[str, ...] = ()


@dataclass
class _TypeSpec:
    symmetric: bool = False
    reciprocal: bool = False
    located: bool = False
    realis_only: bool = False
    requires_target: bool = False
    object_preps: frozenset[str] = frozenset()  # "fired a missile at Israel": a target
    confidence: float = 0.7
    mode_cues: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)


@dataclass
class _Lexicon:
    # first word of a trigger (lower case, every inflection) -> (regex, trigger) by priority
    index: dict[str, list[tuple[re.Pattern[str], _Trigger]]]
    triggers: dict[str, _Trigger]
    types: dict[str, _TypeSpec]
    title_words: frozenset[str]
    locative: frozenset[str]
    about_nouns: frozenset[str]
    quantifiers: frozenset[str]
    homographs: frozenset[str]
    light_verbs: frozenset[str]  # inflected: "announced new aid for" reports the aid
    clause_left: re.Pattern[str]
    clause_right: re.Pattern[str]
    negation: re.Pattern[str]
    conditional: re.Pattern[str]
    conditional_open: re.Pattern[str]  # words opening a conditional clause
    pronoun_rx: re.Pattern[str]
    pronoun_kind: dict[str, str]
    embedded_modes: dict[str, dict[str, str]]


def _inflections(lemma: str, irregular: dict[str, list[str]]) -> list[str]:
    """meet -> meet, meets, meeting, meeted(harmless), met (from the irregular table)."""
    forms = {lemma, *irregular.get(lemma, [])}
    if re.search(r"(?:s|sh|ch|x|z|o)$", lemma):
        forms.add(lemma + "es")
    elif re.search(r"[^aeiou]y$", lemma):
        forms.add(lemma[:-1] + "ies")
    else:
        forms.add(lemma + "s")
    if lemma.endswith("e"):
        forms.add(lemma + "d")
        forms.add((lemma[:-1] if not lemma.endswith(("ee", "ye", "oe")) else lemma) + "ing")
    elif re.search(r"[^aeiou]y$", lemma):
        forms.update({lemma[:-1] + "ied", lemma + "ing"})
    else:
        forms.update({lemma + "ed", lemma + "ing"})
        if len(lemma) <= 4 and re.search(r"[^aeiou][aeiou][bdgklmnprt]$", lemma):
            forms.update({lemma + lemma[-1] + "ed", lemma + lemma[-1] + "ing"})
    if lemma.endswith("ie"):
        forms.add(lemma[:-2] + "ying")
    return sorted(forms, key=len, reverse=True)


def _plurals(word: str) -> list[str]:
    if word in _FUNCTION_WORDS or word.endswith("s"):
        return [word]
    if re.search(r"[^aeiou]y$", word):
        return [word[:-1] + "ies", word]
    if re.search(r"(?:sh|ch|x|z)$", word):
        return [word + "es", word]
    return [word + "s", word]


_GAP = r"(?:[\s,]+(?!(?:but|while|who|which|that|said)\b)[\w'’$%.-]+){0,3}?"


def _pattern_rx(pattern: str, verbal: bool, irregular: dict[str, list[str]]) -> str:
    """Regex of one lexicon pattern (see the header of plover.yaml for the syntax)."""
    out = ""
    for i, w in enumerate(pattern.split()):
        if w == "*":
            out += _GAP
            continue
        alts: list[str] = []
        for a in w.split("|"):
            if verbal and i == 0:
                alts.extend(_inflections(a, irregular))
            elif not verbal:
                alts.extend(_plurals(a))
            else:
                alts.append(a)
        alt_rx = "|".join(re.escape(a) for a in sorted(set(alts), key=len, reverse=True))
        out += ("" if i == 0 else r"\s+") + f"(?:{alt_rx})"
    return rf"(?<![\w-]){out}(?![\w-])"


def _phrase_rx(words: list[str], flags: int = re.IGNORECASE) -> re.Pattern[str]:
    alts = sorted({str(w) for w in words}, key=len, reverse=True)
    body = "|".join(re.escape(a).replace(r"\ ", r"\s+") for a in alts)
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", flags)


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    try:
        data = yaml.safe_load(PLOVER_PATH.read_text(encoding="utf-8"))
        types_data: dict[str, Any] = data["types"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read event lexicon: {exc}", PLOVER_PATH) from exc
    missing = [t for t in PLOVER_TYPES if t not in types_data]
    if missing:
        raise ConfigError(f"event lexicon lacks PLOVER types {missing}", PLOVER_PATH)
    irregular = {k: list(v or []) for k, v in (data.get("irregular") or {}).items()}
    triggers: dict[str, _Trigger] = {}
    alternatives: list[tuple[int, int, str, str, list[str]]] = []
    types: dict[str, _TypeSpec] = {}
    for tname, spec in types_data.items():
        base = float(spec.get("confidence", 0.7))
        cues = [(mode, _phrase_rx(words)) for mode, words in (spec.get("mode_cues") or {}).items()]
        types[tname] = _TypeSpec(
            symmetric=bool(spec.get("symmetric")), located=bool(spec.get("located")),
            reciprocal=bool(spec.get("reciprocal") or spec.get("symmetric")),
            realis_only=bool(spec.get("realis_only")),
            requires_target=bool(spec.get("requires_target")), confidence=base,
            object_preps=frozenset(spec.get("object_preps") or ()),
            mode_cues=cues,
        )
        for kind in ("verbs", "nouns"):
            for entry in spec.get(kind) or []:
                entry = entry if isinstance(entry, dict) else {"p": entry}
                pats = entry["p"] if isinstance(entry["p"], list) else [entry["p"]]
                for pat in pats:
                    gid = f"g{len(triggers)}"
                    triggers[gid] = _Trigger(
                        type=tname, pattern=pat, mode=entry.get("mode"),
                        complement=bool(entry.get("complement")),
                        needs_target=bool(entry.get("needs_target")),
                        nominal=kind == "nouns",
                        confidence=float(entry.get("confidence", base)),
                        target_preps=tuple(entry.get("target_preps") or ()),
                    )
                    n_words = len([w for w in pat.split() if w != "*"])
                    rx = _pattern_rx(pat, kind == "verbs", irregular)
                    first = pat.split()[0].split("|")
                    forms = [f for a in first for f in (
                        _inflections(a, irregular) if kind == "verbs" else _plurals(a))]
                    alternatives.append((n_words, len(pat), gid, rx, forms))
    # Longer phrases first: at one position "held talks with" beats "held".
    alternatives.sort(key=lambda a: (-a[0], -a[1]))
    index: dict[str, list[tuple[re.Pattern[str], _Trigger]]] = {}
    for _, _, gid, rx, forms in alternatives:
        compiled = re.compile(rx, re.IGNORECASE)
        for form in dict.fromkeys(f.lower() for f in forms):
            index.setdefault(form, []).append((compiled, triggers[gid]))
    pron = data.get("pronouns") or {}
    kind_of = {str(w).lower(): k for k, words in pron.items() for w in words}
    breaks = [b for b in data.get("clause_breaks", []) if b != "as"]
    left_break = re.compile(
        r";|:|,\s+(?:and|but|while)\b|(?<![\w-])(?:"
        + "|".join(re.escape(b).replace(r"\ ", r"\s+") for b in breaks)
        + r"|(?<!well\s)as(?!\s+well\s+as))(?![\w-])",
        re.IGNORECASE,
    )
    right_break = re.compile(
        r";|:|,\s+(?:but|while|who|which|whose|where|when)\b|"
        r"(?<![\w-])(?:said|says|told|who|which|while|whereas|but|because|although|after|"
        r"before|(?<!well\s)as(?!\s+well\s+as)|that|to\s+(?:discuss|review|talk)|according\s+to)(?![\w-])",
        re.IGNORECASE,
    )
    return _Lexicon(
        index=index, triggers=triggers, types=types,
        title_words=frozenset(str(w).lower() for w in data.get("title_words", [])),
        locative=frozenset(str(w).lower() for w in data.get("locative_preps", [])),
        about_nouns=frozenset(str(w).lower() for w in data.get("about_nouns", [])),
        quantifiers=frozenset(str(w).lower() for w in data.get("quantifiers", [])),
        homographs=frozenset(str(w).lower() for w in data.get("noun_homographs", [])),
        light_verbs=frozenset(f for v in data.get("light_verbs", []) for f in _inflections(
            str(v).lower(), irregular)),
        clause_left=left_break, clause_right=right_break,
        negation=_phrase_rx(data.get("negations", [])),
        conditional=_phrase_rx(data.get("conditionals", [])),
        conditional_open=_phrase_rx([w for w in data.get("conditionals", [])
                                     if w in ("if", "unless", "whether", "until")]),
        pronoun_rx=_phrase_rx(list(kind_of)),
        pronoun_kind=kind_of,
        embedded_modes={k: dict(v) for k, v in (data.get("embedded_modes") or {}).items()},
    )


def lexicon_types() -> dict[str, list[str]]:
    """PLOVER type -> the trigger phrases the lexicon holds for it (for docs and tests)."""
    lex = _lexicon()
    out: dict[str, list[str]] = {t: [] for t in lex.types}
    for trig in lex.triggers.values():
        out[trig.type].append(trig.pattern)
    return out


# --------------------------------------------------------------------------- phrases


@dataclass
class _Group:
    """A noun phrase made of one or more adjacent mentions; ``head`` names it."""

    mentions: list[Mention]
    start: int  # sentence-relative offsets
    end: int
    head: Mention
    prep: str | None = None  # governing preposition, if any
    demonym_adj: bool = False  # "Iraqi officials": a country named through an adjective
    about: bool = False  # "the situation in Syria": a topic, not a place


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _gap_is_np(gap: str, left: Mention, lex: _Lexicon) -> bool:
    """Can the text between two mentions sit inside one noun phrase?"""
    possessive = bool(_POSSESSIVE.match(gap))
    rest = _POSSESSIVE.sub("", gap, count=1) if possessive else gap
    if "," in rest and not possessive:
        return False
    if rest.count(",") > 1 or len(_words(rest)) > 7:
        return False
    gap_words = _WORD.findall(rest)
    if gap_words and gap_words[-1].lower() in ("and", "&", "or"):
        return False  # "Israel and Hamas": two phrases, not one
    for w in gap_words:
        lw = w.lower()
        if lw in ("(", ")", ",") or lw in lex.title_words:
            continue
        if w[0].isupper() and lw not in ("and", "the"):
            continue
        return False
    return left.label in (COUNTRY, LOCATION, ORGANIZATION)


def _head(ms: list[Mention]) -> Mention:
    for label in (PERSON, ORGANIZATION):
        found = [m for m in ms if m.label == label]
        if found:
            return found[-1]
    return ms[-1]


def _governing_prep(s_text: str, start: int, lex: _Lexicon) -> str | None:
    """The preposition governing a phrase starting at ``start`` (skipping determiners,
    possessive pronouns and title words), or None."""
    words = _WORD.findall(s_text[max(0, start - 160):start])
    skip = {"the", "a", "an", "his", "her", "its", "their", "our", "my", "this", "that"}
    i = len(words) - 1
    while i >= 0:
        w = words[i].lower()
        if w in skip or (w in lex.title_words and w not in ("of", "and", "&", "the")):
            i -= 1
            continue
        if (words[i][0].isupper() and w not in _FUNCTION_WORDS and w not in lex.pronoun_kind
                and w not in lex.locative):
            i -= 1  # capitalised title word ("President", "Speaker")
            continue
        break
    if i < 0:
        return None
    w = words[i].lower()
    if w == "of":
        before = words[i - 1].lower() if i > 0 else ""
        if (before in lex.title_words or before in lex.quantifiers
                or (i > 0 and words[i - 1][0].isupper())):
            return None  # "leaders of Türkiye", "Speaker of the Council": affiliation
        return "of"
    if w in lex.locative or w in _FUNCTION_WORDS or w in ("like", "by", "between"):
        return w
    # "at controversial Gaza aid sites": a place behind one or two adjectives
    for j in (i - 1, i - 2):
        if j >= 0 and words[j].lower() in lex.locative and all(
                x.islower() for x in words[j + 1:i + 1]):
            return words[j].lower()
    return None


def _groups(sent_mentions: list[Mention], s_text: str, s_start: int, lex: _Lexicon,
            entities: dict[str, Entity]) -> list[_Group]:
    groups: list[_Group] = []
    for m in sent_mentions:
        rel_start, rel_end = m.start - s_start, m.end - s_start
        if groups:
            g = groups[-1]
            gap = s_text[g.end:rel_start]
            if _gap_is_np(gap, g.mentions[-1], lex) and m.label in (PERSON, ORGANIZATION):
                g.mentions.append(m)
                g.end = rel_end
                g.head = _head(g.mentions)
                continue
        groups.append(_Group([m], rel_start, rel_end, m))
    for g in groups:
        g.prep = _governing_prep(s_text, g.start, lex)
        g.about = g.prep is not None and _about(s_text, g.start, lex)
    # A list governed by one preposition ("through Türkiye, Iran, Iraq and Syria") shares it;
    # a bare comma pair ("Like Türkiye, Iran is ...") is no list.
    i = 0
    while i < len(groups):
        j = i
        has_and = False
        while j + 1 < len(groups) and _coordination(s_text[groups[j].end:groups[j + 1].start],
                                                    lex):
            has_and |= bool(re.search(r"\b(?:and|or|as well as)\b",
                                      s_text[groups[j].end:groups[j + 1].start]))
            j += 1
        if has_and and groups[i].prep not in (None, "and"):
            for g in groups[i + 1:j + 1]:
                if g.prep in (None, "and"):
                    g.prep, g.about = groups[i].prep, groups[i].about
        i = j + 1
    for g in groups:
        h = g.head
        ent = entities.get(h.entity_id or "")
        g.demonym_adj = (
            h.label == COUNTRY and len(g.mentions) == 1 and ent is not None
            and h.text.lower() != ent.name.lower() and bool(_DEMONYM_END.search(h.text))
            and bool(re.match(r"[\s”\"’']+[a-z]", s_text[g.end:g.end + 4]))
        )
    return groups


# --------------------------------------------------------------------------- triggers


@dataclass
class _Hit:
    trig: _Trigger
    start: int  # sentence-relative
    end: int
    type: str
    mode: str | None
    confidence: float
    first_end: int = 0  # end of the trigger's first word: names inside a gap are objects


_TOKEN = re.compile(r"(?<![\w-])[\w'’-]+")


def _scan(s_text: str, lex: _Lexicon) -> list[tuple[re.Match[str], _Trigger]]:
    """Leftmost, non-overlapping trigger matches; only words that can open a trigger are
    tried (a dictionary look-up per word instead of one huge alternation)."""
    out: list[tuple[re.Match[str], _Trigger]] = []
    last_end = 0
    for tok in _TOKEN.finditer(s_text):
        if tok.start() < last_end:
            continue
        for rx, trig in lex.index.get(tok.group(0).lower(), ()):
            m = rx.match(s_text, tok.start())
            if m:
                out.append((m, trig))
                last_end = m.end()
                break
    return out


def _find_hits(s_text: str, spans: list[tuple[int, int]], lex: _Lexicon) -> list[_Hit]:
    hits: list[_Hit] = []
    for m, trig in _scan(s_text, lex):
        st, en = m.start(), m.end()
        words = list(re.finditer(r"[\w'’$%.-]+", m.group(0)))
        ends = [(st + words[0].start(), st + words[0].end()),
                (st + words[-1].start(), st + words[-1].end())]
        if any(a < e and s < b for s, e in spans for a, b in ends):
            continue  # a word of an entity name ("Free Syrian Army"), not a trigger
        if (not trig.nominal and m.group(0).lower() in lex.homographs
                and _words(s_text[max(0, st - 8):st])[-1:] in (["a"], ["an"], ["the"])):
            continue  # "a visit by Erdogan": a noun, whose actor is elsewhere
        if (not trig.nominal and m.group(0).lower() in lex.homographs
                and any(e == st - 1 for _, e in spans)
                and not re.match(r"\s+(?:to|on|with|against|by)\b", s_text[en:])):
            continue  # "in Lavrov visit": a noun after a name, not a verb
        if not trig.nominal and " " not in trig.pattern and m.group(0).lower().endswith("ing"):
            prev = _words(s_text[max(0, st - 12):st])[-1:]
            if prev and prev[0] in _DETERMINERS:
                continue  # "attended the meeting": a reference to an event, not a report
        hits.append(_Hit(trig, st, en, trig.type, trig.mode, trig.confidence,
                         first_end=ends[0][1]))
    return hits


_RELATIVE = re.compile(r",\s+(?:who|which|whose)\b[^,;]*,")
_OPEN_RELATIVE = re.compile(r",\s*(?:who|which)\s+(?:[\w'’-]+\s+){0,2}$", re.IGNORECASE)


def _closed_relatives(s_text: str, pos: int) -> list[tuple[int, int]]:
    """", who met Erdogan last week," spans that close before ``pos``."""
    return [(m.start(), m.end()) for m in _RELATIVE.finditer(s_text, 0, pos) if m.end() <= pos]


def _clause_start(s_text: str, pos: int, lex: _Lexicon) -> int:
    start = 0
    rel = _closed_relatives(s_text, pos)
    for m in lex.clause_left.finditer(s_text, 0, pos):
        if any(a <= m.start() < b for a, b in rel):
            continue  # "Kalin, who met Erdogan, held talks": the relative clause is an aside
        start = m.end()
    return start


def _clause_end(s_text: str, pos: int, lex: _Lexicon) -> int:
    m = lex.clause_right.search(s_text, pos)
    return m.start() if m else len(s_text)


def _negated(s_text: str, hit: _Hit, clause_start: int, lex: _Lexicon) -> bool:
    window = s_text[max(clause_start, hit.start - 40):hit.start]
    words = _WORD.findall(window)[-4:]
    for i in range(len(words) - 1, -1, -1):
        if words[i].lower() in ("and", "but", ",", ";", "or"):
            words = words[i + 1:]  # "does not recognize Israel and launched": scope ends
            break
    tail = " ".join(words)
    inner = s_text[hit.start:hit.end]
    return bool(lex.negation.search(tail)) or bool(re.search(r"\b(?:no|not|never)\b", inner,
                                                             re.IGNORECASE))


def _conditional(s_text: str, hit: _Hit, clause_start: int, lex: _Lexicon) -> bool:
    seg_start = max(s_text.rfind(";", 0, hit.start) + 1, 0)
    before = s_text[seg_start:hit.start]
    near = " ".join(_WORD.findall(before)[-3:])
    if re.search(r"\b(?:would|could|might|should|may)\b", near, re.IGNORECASE):
        return True
    # "if"/"unless" opening the trigger's clause ("If Iran attacks, ..."): same comma span
    comma = s_text.rfind(",", 0, hit.start)
    span = s_text[comma + 1:hit.start] if comma >= seg_start else before
    if lex.conditional_open.search(span):
        return True
    # A main clause after an "If ..." clause: "If X happens, Iran would ..." is caught above.
    return False


def _infinitive(s_text: str, hit: _Hit) -> bool:
    before = _WORD.findall(s_text[max(0, hit.start - 30):hit.start])
    return bool(before) and before[-1].lower() == "to"


def _passive(s_text: str, hit: _Hit) -> bool:
    if hit.trig.nominal:
        return False
    before = [w.lower() for w in _WORD.findall(s_text[max(0, hit.start - 30):hit.start])][-2:]
    first = _WORD.findall(s_text[hit.start:hit.end])[0].lower()
    return bool(set(before) & {"was", "were", "been", "being", "is", "are", "be", "got"}) \
        and bool(re.search(r"(?:ed|en|wn|ld|et|ot|uck|ught)$", first))


def _absorb_complements(s_text: str, hits: list[_Hit], lex: _Lexicon) -> list[_Hit]:
    """"threatened to impose sanctions": one THREATEN event (mode from the embedded type)."""
    out: list[_Hit] = []
    skip: set[int] = set()
    for i, h in enumerate(hits):
        if i in skip:
            continue
        if h.trig.complement and i + 1 < len(hits):
            nxt = hits[i + 1]
            between = s_text[h.end:nxt.start]
            if len(_words(between)) <= 6 and re.search(r"\b(?:to|that)\b", between + " " + s_text[
                    h.start:h.end], re.IGNORECASE) and not re.search(r"[;.]", between):
                modes = lex.embedded_modes.get(h.type, {})
                if h.type in ("REJECT", "THREATEN", "REQUEST"):
                    h.mode = h.mode or modes.get(nxt.type)
                elif h.type == "AGREE" and nxt.type in ("ASSAULT", "COERCE", "SANCTION"):
                    h.type, h.mode = "THREATEN", lex.embedded_modes["THREATEN"].get(nxt.type)
                skip.add(i + 1)
        out.append(h)
    return out


# --------------------------------------------------------------------------- document state


@dataclass
class _State:
    last_person: str | None = None
    last_thing: str | None = None
    last_event: tuple[str, str | None, str] | None = None  # actor, target, type
    narrative: tuple[date, str] | None = None
    actor_place: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    recent: list[tuple[int, str, str | None, str]] = field(default_factory=list)
    has_deps: bool = False  # the document's parse has a dependency parse (checked once)


def _country_entities(entities: dict[str, Entity]) -> dict[str, str]:
    out: dict[str, str] = {}
    for eid in sorted(entities):
        e = entities[eid]
        if e.type == COUNTRY and e.country and e.country not in out:
            out[e.country] = eid
    return out


def _iso_of(m: Mention, entities: dict[str, Entity]) -> str | None:
    ent = entities.get(m.entity_id or "")
    iso = (ent.country if ent else None) or m.country
    if iso is None and m.label == COUNTRY and m.key and re.fullmatch(r"[A-Z]{3}", m.key):
        iso = m.key
    return iso


def _entity_for(g: _Group, entities: dict[str, Entity], countries: dict[str, str]) -> str | None:
    """Entity id a phrase stands for; a city used as an actor stands for its country."""
    h = g.head
    if h.entity_id is None:
        return None
    if h.label == LOCATION:
        iso = _iso_of(h, entities)
        if iso and iso in countries and _norm_name(h.text) in _capitals().get(iso, ()):
            return countries[iso]
    return h.entity_id


COUNTRIES_CSV = Path(__file__).parent / "resources" / "countries.csv"


def _norm_name(s: str) -> str:
    return re.sub(r"\s+", " ", s.strip().casefold())


@lru_cache(maxsize=1)
def _capitals() -> dict[str, frozenset[str]]:
    """ISO3 -> capital names (from the shared country gazetteer): the cities whose name
    stands for a government ("Ankara said ..."); other places stay places."""
    out: dict[str, frozenset[str]] = {}
    try:
        with COUNTRIES_CSV.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                caps = [c for c in (row.get("capital") or "").split("|") if c.strip()]
                if row.get("iso3") and caps:
                    out[row["iso3"]] = frozenset(_norm_name(c) for c in caps)
    except OSError:
        return {}
    return out


_DATELINE = re.compile(
    r"\s*([A-Z][A-Za-z .'-]{1,40}?)(?:,[^—–\n]{0,40})?\s*(?:\([^)]*\))?\s*[—–-]{1,2}\s"
)


def _document_place(ad: AnnotatedDocument, by_sent: dict[int, list[Mention]],
                    entities: dict[str, Entity], lex: _Lexicon) -> tuple[str | None, str | None]:
    text = ad.document.text
    # Dateline: "ANKARA, July 9 (AA) — ..." or "BAGHDAD —" at the very start.
    dl = _DATELINE.match(text)
    if dl:
        for m in ad.mentions:
            if m.start >= dl.start(1) and m.end <= dl.end(1) and m.label in (LOCATION, COUNTRY):
                iso = _iso_of(m, entities)
                if iso:
                    return m.text, iso
    # Lede: the first place named after a locative preposition in the first sentences.
    for sent in ad.sentences[:3]:
        s_text = text[sent.start:sent.end]
        for m in by_sent.get(sent.sentence_id, []):
            if m.label not in (LOCATION, COUNTRY):
                continue
            prep = _governing_prep(s_text, m.start - sent.start, lex)
            if prep in ("in", "at", "near") and not _about(s_text, m.start - sent.start, lex):
                iso = _iso_of(m, entities)
                if iso:
                    return m.text, iso
    return None, None


_DETERMINERS = frozenset("the a an his her its their our this that these those".split())


def _about(s_text: str, start: int, lex: _Lexicon) -> bool:
    """"the situation in Syria": the place is what is talked about, not where."""
    words = [w for w in _words(s_text[:start])[-6:] if w not in _DETERMINERS]
    return len(words) >= 2 and words[-1] in ("in", "on", "over") and words[-2] in lex.about_nouns


# --------------------------------------------------------------------------- main


def _has_deps(parse: Any) -> bool:
    try:
        return parse is not None and bool(parse.has_annotation("DEP"))
    except (AttributeError, TypeError, ValueError):
        return False


def _dep_subject(parse: Any, abs_start: int, abs_end: int) -> tuple[int, int] | None:
    """(start, end) of the head word of the trigger verb's subject, from a dependency parse."""
    if parse is None:
        return None
    try:
        span = parse.char_span(abs_start, abs_end, alignment_mode="expand")
    except (AttributeError, ValueError, TypeError, IndexError):
        return None
    if span is None:
        return None
    tok = span.root
    while tok.dep_ in ("xcomp", "aux", "conj") and tok.head is not tok:
        tok = tok.head
    for child in tok.children:
        if child.dep_ in ("nsubj", "nsubjpass"):
            return child.idx, child.idx + len(child.text)  # the head word of the subject
    return None


def extract_events(ad: AnnotatedDocument, entities: dict[str, Entity]) -> list[Event]:
    """Events of one document whose mentions are already resolved."""
    lex = _lexicon()
    doc = ad.document
    text = doc.text
    countries = _country_entities(entities)
    by_sent: dict[int, list[Mention]] = {}
    for m in sorted(ad.mentions, key=lambda m: (m.start, m.end)):
        if m.entity_id is not None and m.entity_id in entities:
            by_sent.setdefault(m.sentence_id, []).append(m)
    doc_place = _document_place(ad, by_sent, entities, lex)
    state = _State(has_deps=_has_deps(ad.parse))
    events: list[Event] = []
    units = _units(ad, by_sent)
    for idx, (unit, ments) in enumerate(units):
        s_text = text[unit.start:unit.end]
        groups = _groups(ments, s_text, unit.start, lex, entities)
        spans = [(m.start - unit.start, m.end - unit.start) for m in ments]
        dates = find_dates(s_text, doc.published, anchor=state.narrative)
        hits = _absorb_complements(s_text, _find_hits(s_text, spans, lex), lex)
        next_first = _first_person(units[idx + 1] if idx + 1 < len(units) else None, text)
        unit_events = _sentence_events(
            ad, unit, s_text, groups, hits, dates, entities, countries, state, lex,
            doc_place, next_first,
        )
        events.extend(unit_events)
        _update_state(state, groups, unit_events, dates, entities, idx)
    return _dedupe(events)


# Sentence ends inside a sentence the annotator gave us (robust to coarse splitting), but
# not after an initial ("M. Seman") or a month abbreviation ("Dec. 8").
_UNIT_END = re.compile(r"[.!?][\"”’)]*\s+(?=[\"“‘(]?[A-Z])")
_ABBREV = frozenset(
    "mr ms mrs dr st jr sr no gen gov sen rep sgt col lt capt prof jan feb mar apr jun jul aug "
    "sep sept oct nov dec".split()
)


def _is_unit_end(text: str, pos: int) -> bool:
    if text[pos] != ".":
        return True
    word = re.search(r"([\w]+)$", text[max(0, pos - 12):pos])
    if word is None:
        return True
    w = word.group(1)
    return not ((len(w) == 1 and w.isupper()) or w.lower() in _ABBREV)


def _units(ad: AnnotatedDocument, by_sent: dict[int, list[Mention]]
           ) -> list[tuple[Sentence, list[Mention]]]:
    """The annotator's sentences, split further where a sentence plainly ends inside one."""
    text = ad.document.text
    out: list[tuple[Sentence, list[Mention]]] = []
    for sent in sorted(ad.sentences, key=lambda s: s.start):
        cuts = [sent.start]
        for m in _UNIT_END.finditer(text, sent.start, sent.end):
            if m.end() < sent.end and _is_unit_end(text, m.start()):
                cuts.append(m.end())
        cuts.append(sent.end)
        ments = by_sent.get(sent.sentence_id, [])
        for a, b in zip(cuts, cuts[1:], strict=False):
            if not text[a:b].strip():
                continue
            inside = [m for m in ments if a <= m.start < b]
            if any(m.end > b for m in inside):  # never cut through a mention
                continue
            out.append((Sentence(sent.sentence_id, a, b), inside))
    return out


def _first_person(nxt: tuple[Sentence, list[Mention]] | None, text: str) -> str | None:
    """Entity of a PERSON opening the next sentence ("... Minister said. Yaşar Güler ...")."""
    if nxt is None:
        return None
    unit, ments = nxt
    for m in ments:
        lead = text[unit.start:m.start]
        if m.label == PERSON and len(_WORD.findall(lead)) <= 1:
            return m.entity_id
        break
    return None


def _update_state(state: _State, groups: list[_Group], sent_events: list[Event],
                  dates: list[DateMention], entities: dict[str, Entity], idx: int) -> None:
    subject = next((g for g in groups if g.prep is None), None)
    if subject is not None and subject.head.entity_id:
        if subject.head.label == PERSON:
            state.last_person = subject.head.entity_id
        elif not subject.demonym_adj:
            state.last_thing = subject.head.entity_id
    for ev in sent_events:
        ent = entities.get(ev.actor_id)
        if ent is not None and ent.type == PERSON:
            state.last_person = ev.actor_id
        state.last_event = (ev.actor_id, ev.target_id, ev.type)
        state.recent.append((idx, ev.actor_id, ev.target_id, ev.type))
    # The narrative time moves with reported events, not with background dates
    # ("... an insurgency since 1984") of sentences that report none.
    dated = [ev for ev in sent_events if ev.date is not None and ev.date_precision != "unknown"]
    if dated:
        state.narrative = (dated[-1].date, dated[-1].date_precision)  # type: ignore[assignment]


def _sentence_events(ad: AnnotatedDocument, sent: Any, s_text: str, groups: list[_Group],
                     hits: list[_Hit], dates: list[DateMention], entities: dict[str, Entity],
                     countries: dict[str, str], state: _State, lex: _Lexicon,
                     doc_place: tuple[str | None, str | None],
                     next_first: str | None) -> list[Event]:
    out: list[Event] = []
    parse = ad.parse if state.has_deps else None
    used_targets: set[int] = set()  # ids of groups already objects of an earlier trigger
    prev_actor: str | None = None
    prev_targets: list[str] = []
    for hit in hits:
        spec = lex.types[hit.type]
        cstart = _clause_start(s_text, hit.start, lex)
        blocked = _negated(s_text, hit, cstart, lex) or _conditional(s_text, hit, cstart, lex)
        if spec.realis_only and _infinitive(s_text, hit):
            blocked = True
        right = _right_groups(s_text, hit, groups, lex, spec)
        if blocked:
            used_targets.update(id(g) for g in right[:1])
            continue
        conf = hit.confidence
        passive = _passive(s_text, hit)
        actors: list[_Group] = []
        actor_ids: list[str] = []
        if passive:
            agent = [g for g in right if g.prep == "by"]
            if not agent:
                continue
            actors = agent[:1]
            left = _left_groups(s_text, hit, groups, cstart, used_targets, lex)
            right = left[-1:] if left else []
        else:
            actors = _left_groups(s_text, hit, groups, cstart, used_targets, lex)
            dep = _dep_subject(parse, sent.start + hit.start, sent.start + hit.end)
            if dep is not None:
                in_subj = [g for g in groups if g.start < dep[1] - sent.start
                           and dep[0] - sent.start < g.end]
                if in_subj:
                    actors = in_subj
        chain: list[_Group] = []
        pron = _pronoun_before(s_text, hit, cstart, actors, lex)
        gerund = bool(prev_targets) and _gerund_of_object(s_text, hit)
        if gerund:
            actor_ids = [prev_targets[0]]  # "accused Iran of supplying drones": Iran supplies
            actors, pron = [], None
            conf -= 0.1
        elif actors and pron is None:
            chain = _coordinated_chain(s_text, actors, groups, lex)
            actor_ids = [a for a in (_actor_entity(g, s_text, hit, entities, countries,
                                                   next_first) for g in chain) if a]
        elif pron is not None:
            kind = lex.pronoun_kind.get(pron, "")
            if kind == "person" and state.last_person:
                actor_ids = [state.last_person]
            elif kind == "thing" and state.last_thing:
                actor_ids = [state.last_thing]
            elif kind == "group" and state.last_event:
                actor_ids = [state.last_event[0]]
                if not right and spec.reciprocal and state.last_event[1]:
                    prev_targets = [state.last_event[1]]
                    prev_actor = actor_ids[0]
            conf -= 0.1
        if hit.trig.nominal and not spec.symmetric and not gerund and not _nominal_actor_ok(
                s_text, hit, actors, pron):
            continue  # "discussed new sanctions against Moscow" reports no sanction
        if not actor_ids and prev_actor is not None:
            actor_ids = [prev_actor]  # participial clause: ", followed by talks with B"
            conf -= 0.1
        if not actor_ids:
            continue
        # Targets
        if hit.trig.target_preps:
            right = [g for g in right if g.prep in hit.trig.target_preps]
        target_ids: list[str | None] = []
        for g in right:
            tid = _entity_for(g, entities, countries)
            if tid:
                target_ids.append(tid)
        used_targets.update(id(g) for g in right)
        if (not target_ids and spec.reciprocal and len(actor_ids) > 1 and chain
                and _adjacent(s_text[chain[-1].end:hit.start])):
            target_ids = list(actor_ids[1:])
            actor_ids = actor_ids[:1]
        if not target_ids and spec.reciprocal and pron is not None and prev_targets:
            target_ids = list(prev_targets)  # "the two leaders signed ...": both sides
        if not target_ids and spec.symmetric:
            if prev_targets and prev_actor in actor_ids:
                target_ids = list(prev_targets)
            elif pron is not None and lex.pronoun_kind.get(pron) == "group" and state.last_event:
                target_ids = [state.last_event[1]] if state.last_event[1] else []
            else:
                target_ids = _recent_target(state, actor_ids[0], hit.type)
            if target_ids:
                conf -= 0.05
        if not target_ids:
            if hit.trig.needs_target or spec.requires_target or hit.trig.nominal:
                continue
            target_ids = [None]
            conf -= 0.1
        place, iso = _event_place(s_text, hit, groups, entities, lex)
        mode = _mode(hit, spec, s_text, lex)
        for actor_id in actor_ids:
            for target_id in target_ids:
                if target_id == actor_id:
                    continue
                ev_place, ev_iso = place, iso
                ev_mode = mode
                if ev_iso is None:
                    ev_place, ev_iso = _fallback_place(
                        hit, spec, ev_mode, actor_id, target_id, entities, state, doc_place,
                    )
                if hit.type == "CONSULT" and ev_mode is None:
                    ev_mode = _consult_mode(actor_id, target_id, ev_iso, entities)
                d, prec, inherited = _event_date(hit, dates, state, ad.document.published)
                out.append(_make_event(
                    ad, sent, s_text, hit, ev_mode, actor_id, target_id, ev_place, ev_iso,
                    d, prec, conf - (0.05 if inherited else 0.0),
                ))
                if ev_iso is not None:
                    state.actor_place[actor_id] = (ev_place, ev_iso)
        prev_actor = actor_ids[0]
        prev_targets = [t for t in target_ids if t]
    return out


def _left_groups(s_text: str, hit: _Hit, groups: list[_Group], cstart: int,
                 used: set[int], lex: _Lexicon) -> list[_Group]:
    """Actor candidates: the best phrase left of the trigger in its clause (as a list)."""
    rel = _closed_relatives(s_text, hit.start)
    cands = [
        g for g in groups
        if g.end <= hit.start and g.start >= cstart and id(g) not in used
        and (g.prep is None or g.prep in ("and",))
        and not any(a <= g.start < b for a, b in rel)
    ]
    if not cands:
        # "Kalin, who met Erdogan": the verb of a relative clause acts for its antecedent.
        m = _OPEN_RELATIVE.search(s_text, 0, hit.start)
        if m:
            return [g for g in groups if 0 <= m.start() - g.end <= 1][:1]
        return []
    named = [g for g in cands if not g.demonym_adj]
    pool = named or cands
    return [pool[-1]]


def _coordinated_chain(s_text: str, actors: list[_Group], groups: list[_Group],
                       lex: _Lexicon) -> list[_Group]:
    """"Türkiye and Iran held talks": the actor phrase and those coordinated before it."""
    if len(actors) != 1:
        return actors
    chain = list(actors)
    idx = next(i for i, g in enumerate(groups) if g is actors[0])
    while idx > 0:
        prev = groups[idx - 1]
        if prev.prep not in (None, "and") or not _coordination(
                s_text[prev.end:chain[0].start], lex):
            break
        chain.insert(0, prev)
        idx -= 1
    return chain


def _right_groups(s_text: str, hit: _Hit, groups: list[_Group], lex: _Lexicon,
                  spec: _TypeSpec) -> list[_Group]:
    """Target phrases right of the trigger: the first one and those coordinated with it."""
    after = hit.end
    if hit.trig.complement:  # "demanded that the Philippines withdraw"
        m = re.match(r"\s+that\b", s_text[hit.end:])
        after = hit.end + m.end() if m else hit.end
    cend = _clause_end(s_text, after, lex)
    out: list[_Group] = []
    for g in groups:
        if g.start < hit.first_end or g.start > cend or (g.start < hit.end and g.end > hit.end):
            continue
        if _SPEAKER.match(s_text[g.end:g.end + 30]):
            break  # ", Turkish officials said": the source of the report, not a participant
        if not out:
            gap = s_text[min(hit.end, g.start):g.start]
            rest = [w for w in _words(gap) if w not in _DETERMINERS]
            if not rest or (len(rest) == 1 and rest[0] in _OBJECT_PREPS):
                out.append(g)  # "supporter of Hamas", "visit Syria", "assets of Russian ..."
                continue
            if g.prep in lex.locative and g.prep != "from" and g.prep not in spec.object_preps:
                continue  # "held talks in Iran with ...": a place, not the other side
            if g.prep == "of" or _indirect(gap, lex) or len(_words(gap)) > 10:
                break
            if g.prep == "by" and not _passive(s_text, hit):
                continue
            out.append(g)
            continue
        gap = s_text[out[-1].end:g.start]
        if _coordination(gap, lex):
            out.append(g)
        else:
            break
    return out


_SPEAKER = re.compile(r"^(?:\s+[\w-]+){0,2}\s+(?:said|says|told|added|reported|stated)\b")
_OBJECT_PREPS = frozenset("of to for on against with about over".split())


def _indirect(gap: str, lex: _Lexicon) -> bool:
    """"backing opponents of Assad": the phrase is not the object itself."""
    words = _WORD.findall(gap)
    for i, w in enumerate(words[:-1]):
        if (words[i + 1].lower() == "of" and w[0].islower() and w.lower() not in lex.title_words
                and w.lower() not in lex.quantifiers):
            return True
    return False


_COORD = re.compile(r"^\s*(?:,\s*)?(?:(?:and|as\s+well\s+as|along\s+with|together\s+with|&)\s+)?",
                    re.IGNORECASE)


def _coordination(gap: str, lex: _Lexicon) -> bool:
    m = _COORD.match(gap)
    head = gap[: m.end()] if m else ""
    if not head.strip():
        return False
    rest = gap[m.end():] if m else gap
    for w in _WORD.findall(rest):
        lw = w.lower()
        if lw in ("a", "an", "who", "which", ","):
            return False
        if lw in lex.title_words or lw in ("his", "her", "their", "its") or w[0].isupper():
            continue
        return False
    return True


def _pronoun_before(s_text: str, hit: _Hit, cstart: int, actors: list[_Group],
                    lex: _Lexicon) -> str | None:
    lo = max(cstart, actors[-1].end if actors else cstart)
    found = None
    for m in lex.pronoun_rx.finditer(s_text, lo, hit.start):
        found = re.sub(r"\s+", " ", m.group(0).lower())
    if found is None:
        return None
    # Object pronouns ("him", "her") are no subjects.
    if found in ("him",):
        return None
    return found


def _actor_entity(g: _Group, s_text: str, hit: _Hit, entities: dict[str, Entity],
                  countries: dict[str, str], next_first: str | None) -> str | None:
    eid = _entity_for(g, entities, countries)
    if eid is None:
        return None
    # "Türkiye's Minister of National Defense expressed ...": the office, not the country.
    if g.head.label == COUNTRY:
        between = s_text[g.end:hit.start]
        m = re.match(r"\s*['’]s\s+((?:[A-Z][\w-]*|of|the|and)(?:\s+(?:[A-Z][\w-]*|of|the|and))*)"
                     r"\s*(?:,|$)?", between)
        if m and len(_WORD.findall(between)) <= 8:
            role = m.group(1).lower()
            iso = _iso_of(g.head, entities)
            for pid in sorted(entities):
                p = entities[pid]
                if p.type == PERSON and any(r.lower() == role for r in p.roles) and (
                        p.country in (None, iso)):
                    return pid
            if next_first is not None:
                p = entities.get(next_first)
                if p is not None and p.country in (None, iso):
                    return next_first
    return eid


_COPULA = re.compile(
    r"^\s*(?:['’]s|is|was|are|were|has\s+been|have\s+been|remains?|became|becomes)?"
    r"(?:\s+(?:a|an|the|its|their))?(?:\s+[a-z][\w-]*){0,2}\s*$"
)


def _nominal_actor_ok(s_text: str, hit: _Hit, actors: list[_Group], pron: str | None) -> bool:
    """A nominal trigger reports an act of the phrase right before it ("Israel's attack on",
    "Iran is a staunch supporter of", "new EU sanctions on"), not of a distant subject."""
    if pron is not None or not actors:
        return False
    gap = s_text[actors[-1].end:hit.start]
    m = _COPULA.match(gap)
    if not m:
        return False
    if re.match(r"\s*(?:['’]s|is|was|are|were|has|have|remains?|became|becomes)\b", gap):
        return True
    # Without a copula or possessive, only modifiers may intervene ("new EU sanctions");
    # a verb ("discussed new sanctions") makes the noun its object.
    lex = _lexicon()
    return not any(w.endswith(("ed", "ing")) and w not in lex.light_verbs for w in _words(gap))


def _gerund_of_object(s_text: str, hit: _Hit) -> bool:
    before = _words(s_text[max(0, hit.start - 12):hit.start])
    first = s_text[hit.start:hit.first_end].lower()
    return bool(before) and before[-1] in ("of", "for") and first.endswith("ing")


def _adjacent(gap: str) -> bool:
    """Is a subject right before its verb ("A and B agreed", "... of A and B held")?"""
    return "," not in gap and len(_WORD.findall(gap)) <= 3


def _recent_target(state: _State, actor: str, etype: str) -> list[str]:
    for _, a, t, typ in reversed(state.recent[-6:]):
        if a == actor and typ == etype and t:
            return [t]
    return []


def _event_place(s_text: str, hit: _Hit, groups: list[_Group], entities: dict[str, Entity],
                 lex: _Lexicon) -> tuple[str | None, str | None]:
    cands = []
    lo, hi = _clause_start(s_text, hit.start, lex), _clause_end(s_text, hit.end, lex)
    for g in groups:
        h = g.head
        if g.start < lo or g.start > hi:
            continue
        if g.prep not in ("in", "at", "near", "inside", "outside") or h.label not in (
                LOCATION, COUNTRY):
            continue
        if g.about:
            continue
        iso = _iso_of(h, entities)
        if iso:
            after = g.start >= hit.end
            cands.append((0 if after else 1, abs(g.start - hit.end), h.text, iso))
    if not cands:
        return None, None
    cands.sort()
    return cands[0][2], cands[0][3]


def _fallback_place(hit: _Hit, spec: _TypeSpec, mode: str | None, actor: str,
                    target: str | None, entities: dict[str, Entity], state: _State,
                    doc_place: tuple[str | None, str | None]) -> tuple[str | None, str | None]:
    if mode == "phone":
        return None, None
    if mode == "visit" and target:
        t = entities.get(target)
        if t is not None and t.type in (COUNTRY, LOCATION) and t.country:
            return t.name, t.country
    if not spec.located:
        return None, None
    if actor in state.actor_place:
        return state.actor_place[actor]
    countries = {e.country for e in (entities.get(actor), entities.get(target or "")) if e}
    if doc_place[1] in countries:
        return doc_place  # the article's place, where one side of the event belongs
    return None, None


def _mode(hit: _Hit, spec: _TypeSpec, s_text: str, lex: _Lexicon) -> str | None:
    if hit.mode:
        return hit.mode
    for mode, rx in spec.mode_cues:
        if rx.search(s_text):
            return mode
    return None


def _consult_mode(actor: str, target: str | None, iso: str | None,
                  entities: dict[str, Entity]) -> str | None:
    if iso is None or target is None:
        return None
    a, t = entities.get(actor), entities.get(target)
    a_iso = a.country if a else None
    t_iso = t.country if t else None
    if a_iso and t_iso and a_iso != t_iso:
        if iso == t_iso:
            return "visit"
        if iso == a_iso:
            return "host"
        return "third-party"
    if a_iso and t_iso is None and iso != a_iso:
        return "visit"  # the actor met someone abroad, at the place of the meeting
    return None


def _event_date(hit: _Hit, dates: list[DateMention], state: _State,
                published: date | None) -> tuple[date | None, str, bool]:
    resolved = [d for d in dates if d.date is not None]
    if resolved:
        best = min(resolved, key=lambda d: d.start - hit.end if d.start >= hit.end
                   else 2 * max(0, hit.start - d.end))  # "met X on Monday" reads forward
        return best.date, best.precision, False
    if dates:  # an expression we cannot resolve (no publication date): say so
        return None, "unknown", False
    if state.narrative is not None and state.narrative[1] == "day":
        # Only a day carries over: "last year" in one paragraph is background, not the
        # time of the next report.
        return state.narrative[0], state.narrative[1], True
    return published, "unknown", False


def _make_event(ad: AnnotatedDocument, sent: Any, s_text: str, hit: _Hit, mode: str | None,
                actor: str, target: str | None, place: str | None, iso: str | None,
                d: date | None, prec: str, conf: float) -> Event:
    doc_id = ad.document.doc_id
    t_start, t_end = sent.start + hit.start, sent.start + hit.end
    return Event(
        event_id=stable_id(doc_id, hit.type, actor, target, t_start, t_end, prefix="ev_"),
        doc_id=doc_id,
        sentence_id=sent.sentence_id,
        type=hit.type,
        mode=mode,
        actor_id=actor,
        target_id=target,
        date=d,
        date_precision=prec if d is not None else "unknown",
        location=iso,
        place=place,
        topics=list(_topics(s_text)),
        evidence=s_text,
        evidence_start=sent.start,
        evidence_end=sent.end,
        trigger=ad.document.text[t_start:t_end],
        trigger_start=t_start,
        trigger_end=t_end,
        confidence=round(min(0.99, max(0.05, conf)), 3),
    )


@lru_cache(maxsize=4096)
def _topics(sentence: str) -> tuple[str, ...]:
    """Topics of an evidence sentence, computed once however many events it holds."""
    return tuple(topics_for(sentence))


_PREC_RANK = {"day": 3, "month": 2, "year": 1, "unknown": 0}


def _info(ev: Event) -> tuple[int, float]:
    """How much a row tells: date precision, mode, place; then how sure we are of it."""
    score = _PREC_RANK.get(ev.date_precision, 0) + (ev.mode is not None) \
        + (ev.location is not None) + (ev.place is not None)
    return (score, ev.confidence)


def _pair_key(ev: Event) -> tuple[str, str, str | None]:
    lex = _lexicon()
    if lex.types[ev.type].symmetric and ev.target_id is not None:
        a, b = sorted((ev.actor_id, ev.target_id))
        return ev.type, a, b
    return ev.type, ev.actor_id, ev.target_id


def _dedupe(events: list[Event]) -> list[Event]:
    """One row per (type, actor, target) in a document: the one with the most information.

    Two reports with explicit, different day dates are different happenings and both stay.
    """
    kept: dict[tuple[Any, ...], Event] = {}
    order: list[tuple[Any, ...]] = []
    for ev in events:
        key: tuple[Any, ...] = _pair_key(ev)
        if key in kept:
            old = kept[key]
            if (old.date_precision == ev.date_precision == "day" and old.date != ev.date):
                key = (*key, ev.date)
                if key not in kept:
                    kept[key] = ev
                    order.append(key)
                    continue
                old = kept[key]
            if _info(ev) > _info(old):
                kept[key] = ev
            continue
        kept[key] = ev
        order.append(key)
    out = [kept[k] for k in order]
    out.sort(key=lambda e: (e.trigger_start, e.event_id))
    return out


def cluster_events(events: list[Event]) -> None:
    """Give events that report the same happening across documents one cluster_id.

    Same type, same actor and target (unordered for symmetric types such as CONSULT) and
    the same known date -> one cluster. An event without a date forms its own cluster.
    Nothing is removed; the cluster id is a hash of the shared key, so it is stable.
    """
    for ev in events:
        if ev.date is None:
            ev.cluster_id = ev.event_id
            continue
        etype, a, b = _pair_key(ev)
        ev.cluster_id = stable_id(etype, a, b, ev.date.isoformat(), prefix="cl_")
