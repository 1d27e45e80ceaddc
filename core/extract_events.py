"""Sentences -> Event records (PLOVER type + mode, actor, target, place, date).

How one sentence becomes events:

1. Triggers: one precompiled regex built from core/resources/plover.yaml finds verbal and
   nominal triggers ("met with", "held talks", "spoke by phone", "launched a missile
   attack", "reiterated its full support") with their inflections. A trigger inside an
   entity name is ignored. A trigger that governs another ("refused to meet", "threatened
   to impose sanctions") absorbs it: REJECT / THREATEN with a mode, never the positive type.
   Negated ("did not meet", "have yet to agree"), hypothetical ("if ... would attack",
   "the planned meeting") or prevented ("banned women from attending") triggers give
   nothing; "said it would" / "vowed they will" is a stated intention and counts (an
   announced act of force becomes THREATEN). Phrases that name things ("riot police",
   "armed forces") are masked first; bare forms of ambiguous verbs ("let them back") only
   count after "to" or a modal. Among phrases of as many words at one place, the tightest
   match wins ("held a general strike" is a strike, not "held ... to protest"). Passives are
   found in both orders: "X was arrested by Y" and "sanctions were imposed on X by Y".
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
   verb is preferred as actor. Wire phrasing: "talks between A and B" gives A and B; in a
   passive the by-phrase acts and the subject (or, for aid and extradition, the to-phrase)
   receives; "Ethiopian troops were deployed" belongs to the troops' owner; "welcomed the
   decision by Serbia" targets Serbia; "police raided" is COERCE, "protesters stormed" is
   PROTEST; a place is never the other side of a verbal act.
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

from core import yamlio
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
_DEMONYM_END = re.compile(r"(?:ians?|ans?|ish|sh|ese|is?|ic|ch|ots?|ers?|ek|ss)$", re.IGNORECASE)
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
    reciprocal: bool = False  # "Russia and Ukraine swapped prisoners": both sides act
    subject_only: bool = False  # "A Russian missile strike ... killed": the noun is the subject
    police_type: str | None = None  # "police raided ...": the act of a police force is this type
    passive_form: bool = False  # "sanctions were imposed on ...": the noun comes first


@dataclass
class _TypeSpec:
    symmetric: bool = False
    reciprocal: bool = False
    located: bool = False
    realis_only: bool = False
    requires_target: bool = False
    object_preps: frozenset[str] = frozenset()  # "fired a missile at Israel": a target
    verbal: bool = False  # a verbal act (PLOVER quad): a place is never its other side
    by_marks_target: bool = False  # "welcomed the decision by Serbia": Serbia is the target
    recipient_preps: tuple[str, ...] = ()  # "extradited X to France": the to-phrase is the target
    passive_theme_actor: bool = False  # "Ethiopian troops were deployed": the owner acts
    confidence: float = 0.7
    mode_cues: list[str] = field(default_factory=list)  # modes in lexicon order
    cue_rx: re.Pattern[str] | None = None  # one pass over a sentence: group c<i> = mode i
    mode_by_order: bool = False  # the first cue in lexicon order wins, wherever it is


@dataclass
class _Lexicon:
    # first word of a trigger (lower case, every inflection) -> (words, regex, trigger) by
    # priority (most words first)
    index: dict[str, list[tuple[int, _LazyRx, _Trigger]]]
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
    non_triggers: re.Pattern[str] | None
    bare_ambiguous: frozenset[str]
    bare_licensers: frozenset[str]
    intention: re.Pattern[str]  # "said it would", "vowed they would": an intention
    speech_forms: frozenset[str]  # said, vowed, warned ...
    irrealis: frozenset[str]  # "planned", "proposed": an act noun that has not happened


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


_GAP = r"(?:[\s,]+(?!(?:but|while|who|which|that|said)\b)[\w'’$%.-]+(?:,\d+)*){0,4}?"


def _word_forms(alt: str, verbal_first: bool, irregular: dict[str, list[str]]) -> list[str]:
    """Forms of one alternative: "carry_out" -> carried out, carries out ...; "talk" -> talks."""
    words = alt.split("_")
    if verbal_first:
        return [" ".join([f, *words[1:]]) for f in _inflections(words[0], irregular)]
    return [" ".join([*words[:-1], f]) for f in _plurals(words[-1])]


def _pattern_rx(pattern: str, verbal: bool, irregular: dict[str, list[str]]) -> str:
    """Regex of one lexicon pattern (see the header of plover.yaml for the syntax)."""
    out = ""
    for i, w in enumerate(pattern.split()):
        if w == "*":
            out += _GAP
            continue
        alts: list[str] = []
        for a in w.split("|"):
            # Content words after the verb also match their plural ("block * highway(s)").
            alts.extend(_word_forms(a, verbal and i == 0, irregular))
        alt_rx = "|".join(re.escape(a).replace(r"\ ", r"\s+")
                          for a in sorted(set(alts), key=len, reverse=True))
        out += ("" if i == 0 else r"\s+") + f"(?:{alt_rx})"
    return rf"(?<![\w-]){out}(?![\w-])"


_AUX_PASSIVE = (r"(?:(?:have|has|had)\s+(?:also\s+|now\s+|already\s+)?been|was|were|is|are|"
                r"will\s+be|would\s+be|being|be)")


def _passive_rx(pattern: str, irregular: dict[str, list[str]]) -> tuple[str, list[str]] | None:
    """"impose * sanctions" -> "sanctions were imposed": the object noun before a passive
    verb. Only for verb + gap + noun patterns; returns the regex and the nouns' forms."""
    words = pattern.split()
    if len(words) != 3 or words[1] != "*" or "*" in words[2]:
        return None
    verbs: list[str] = []
    for a in words[0].split("|"):
        if "_" in a:
            continue  # "carry_out": a particle verb has no simple passive here
        irr = irregular.get(a, [])
        verbs.extend(f for f in _inflections(a, irregular)
                     if f in irr or (f != a and f.endswith(("ed", "en"))))
    nouns = [f for a in words[2].split("|") for f in _word_forms(a, False, irregular)]
    if not verbs or not nouns:
        return None
    n_rx = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in sorted(set(nouns), key=len,
                                                                        reverse=True))
    v_rx = "|".join(re.escape(v) for v in sorted(set(verbs), key=len, reverse=True))
    # "sanctions were imposed", or reduced before an agent: "a bomb planted by ..."
    return (rf"(?<![\w-])(?:{n_rx})\s+(?:{_AUX_PASSIVE}\s+(?:\w+ly\s+)?(?:{v_rx})|"
            rf"(?:{v_rx})(?=\s+by\b))(?![\w-])",
            [n.split()[0].lower() for n in nouns])


def _phrase_rx(words: list[str], flags: int = re.IGNORECASE) -> re.Pattern[str]:
    alts = sorted({str(w) for w in words}, key=len, reverse=True)
    body = "|".join(re.escape(a).replace(r"\ ", r"\s+") for a in alts)
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", flags)


_CUE_SUFFIX = r"(?:s|es|ed|d|ing|ion|ions|ation|ations|ment|ments|er|ers|ory)?"


def _cue_rx(cues: dict[str, list[str]]) -> re.Pattern[str] | None:
    """One regex for all mode cues of a type; group ``c<i>`` names the i-th mode. A cue
    matches its derived forms too ("resign" -> "resignation", "demonstrat" ->
    "demonstrators"), so one stem covers a verb and its nouns."""
    parts = []
    for i, words in enumerate(cues.values()):
        stems = {str(w) for w in words} | {str(w)[:-1] for w in words if str(w).endswith("e")}
        body = "|".join(re.escape(a).replace(r"\ ", r"\s+")
                        for a in sorted(stems, key=len, reverse=True))
        parts.append(f"(?P<c{i}>{body})")
    if not parts:
        return None
    return re.compile(rf"(?<![\w-])(?:{'|'.join(parts)}){_CUE_SUFFIX}(?![\w-])", re.IGNORECASE)


class _LazyRx:
    """A trigger pattern, compiled the first time a text has a word that may start it.

    There are about a thousand; compiling them all up front costs most of a second,
    which a rebuild that codes one new article would pay for a handful of them.
    """

    __slots__ = ("_compiled", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._compiled: re.Pattern[str] | None = None

    def match(self, text: str, pos: int) -> re.Match[str] | None:
        if self._compiled is None:
            self._compiled = re.compile(self.source, re.IGNORECASE)
        return self._compiled.match(text, pos)


def ready() -> None:
    """Load the event lexicon and gazetteer tables now, so the first article is quick."""
    _lexicon()
    _capitals()


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    try:
        data = yamlio.safe_load(PLOVER_PATH.read_text(encoding="utf-8"))
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
        cue_data = {str(k): list(v or []) for k, v in (spec.get("mode_cues") or {}).items()}
        types[tname] = _TypeSpec(
            symmetric=bool(spec.get("symmetric")), located=bool(spec.get("located")),
            reciprocal=bool(spec.get("reciprocal") or spec.get("symmetric")),
            realis_only=bool(spec.get("realis_only")),
            requires_target=bool(spec.get("requires_target")), confidence=base,
            object_preps=frozenset(spec.get("object_preps") or ()),
            verbal=str(spec.get("quad", "")).startswith("verbal"),
            by_marks_target=bool(spec.get("by_marks_target")),
            recipient_preps=tuple(spec.get("recipient_preps") or ()),
            passive_theme_actor=bool(spec.get("passive_theme_actor")),
            mode_cues=list(cue_data), cue_rx=_cue_rx(cue_data),
            mode_by_order=bool(spec.get("mode_by_order")),
        )
        for kind in ("verbs", "nouns"):
            for entry in spec.get(kind) or []:
                entry = entry if isinstance(entry, dict) else {"p": entry}
                pats = entry["p"] if isinstance(entry["p"], list) else [entry["p"]]
                for pat in pats:
                    gid = f"g{len(triggers)}"
                    trig = _Trigger(
                        type=tname, pattern=pat, mode=entry.get("mode"),
                        complement=bool(entry.get("complement")),
                        needs_target=bool(entry.get("needs_target")),
                        nominal=kind == "nouns",
                        confidence=float(entry.get("confidence", base)),
                        target_preps=tuple(entry.get("target_preps") or ()),
                        reciprocal=bool(entry.get("reciprocal")),
                        subject_only=bool(entry.get("subject_only")),
                        police_type=entry.get("police_type"),
                    )
                    triggers[gid] = trig
                    n_words = len([w for w in pat.split() if w != "*"])
                    rx = _pattern_rx(pat, kind == "verbs", irregular)
                    first = pat.split()[0].split("|")
                    forms = [f.split()[0] for a in first
                             for f in _word_forms(a, kind == "verbs", irregular)]
                    alternatives.append((n_words, len(pat), gid, rx, forms))
                    passive = _passive_rx(pat, irregular) if kind == "verbs" else None
                    if passive is not None and not trig.complement:
                        pid = f"{gid}p"
                        triggers[pid] = _Trigger(**{**trig.__dict__, "passive_form": True})
                        alternatives.append((n_words + 1, len(pat), pid, passive[0],
                                             passive[1]))
    # Longer phrases first: at one position "held talks with" beats "held".
    alternatives.sort(key=lambda a: (-a[0], -a[1]))
    index: dict[str, list[tuple[int, _LazyRx, _Trigger]]] = {}
    for n_words, _, gid, rx, forms in alternatives:
        compiled = _LazyRx(rx)
        for form in dict.fromkeys(f.lower() for f in forms):
            index.setdefault(form, []).append((n_words, compiled, triggers[gid]))
    speech = {f for v in data.get("intention_verbs", []) for f in _inflections(
        str(v).lower(), irregular) if not f.endswith("ing")}
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
        r"before|(?<!well\s)as(?!\s+well\s+as)|that|to\s+(?:discuss|review|talk)|according\s+to|"
        r"if|unless|provided|in\s+case|since|amid|despite|following|during|until|ahead\s+of)"
        r"(?![\w-])",
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
        non_triggers=_phrase_rx(data["non_triggers"]) if data.get("non_triggers") else None,
        bare_ambiguous=frozenset(str(w).lower() for w in data.get("bare_ambiguous", [])),
        bare_licensers=frozenset(str(w).lower() for w in data.get("bare_licensers", [])),
        speech_forms=frozenset(speech),
        irrealis=frozenset(str(w).lower() for w in data.get("irrealis_modifiers", [])),
        intention=re.compile(
            r"(?<![\w-])(?:" + "|".join(re.escape(f) for f in sorted(speech))
            + r")(?:\s+that)?(?:\s+(?:it|they|he|she|we|the\s+\w+|[A-Z][\w-]*)){0,3}"
            r"\s+(?:would|will)\s+(?:\w+ly\s+)?$", re.IGNORECASE),
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
    tail = [w.lower() for w in gap_words if w.lower() != "the"]
    if tail and tail[-1] in ("and", "&", "or"):
        return False  # "Israel and (the) Hamas": two phrases, not one
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
    if w == "from" and i > 0 and words[i - 1].lower() in lex.quantifiers:
        return None  # "gunmen from ISWAP": members of the group, who act for it
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
            if re.fullmatch(r"\s*\(\s*", gap) and m.entity_id == g.head.entity_id:
                # "the International Atomic Energy Agency (IAEA)": one phrase
                close = re.match(r"\s*\)", s_text[rel_end:])
                g.end = rel_end + (close.end() if close else 0)
                continue
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
        # "in Brasilia, Venezuela and Guyana agreed": a city then the subjects, no list
        same_kind = len({g.head.label for g in groups[i:j + 1]}) == 1
        if has_and and same_kind and groups[i].prep not in (None, "and"):
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


def _masked(s_text: str, lex: _Lexicon) -> str:
    """The sentence with phrases that only name things ("riot police", "armed forces")
    blanked out, offsets kept."""
    if lex.non_triggers is None:
        return s_text
    return lex.non_triggers.sub(lambda m: " " * len(m.group(0)), s_text)


def _scan(s_text: str, lex: _Lexicon) -> list[tuple[re.Match[str], _Trigger]]:
    """Leftmost, non-overlapping trigger matches; only words that can open a trigger are
    tried (a dictionary look-up per word instead of one huge alternation)."""
    out: list[tuple[re.Match[str], _Trigger]] = []
    last_end = 0
    s_text = _masked(s_text, lex)
    before = ""
    for tok in _TOKEN.finditer(s_text):
        word = tok.group(0).lower()
        before, prev = word, before  # the word before this one is ``prev``
        if tok.start() < last_end:
            continue
        if word in lex.bare_ambiguous and prev not in lex.bare_licensers:
            continue  # "let inspectors back", "free trade": not the verb
        best: tuple[re.Match[str], _Trigger] | None = None
        best_words = 0
        for n_words, rx, trig in lex.index.get(word, ()):
            if best is not None and n_words < best_words:
                break  # only phrases as long as the best one compete
            m = rx.match(s_text, tok.start())
            if m and (best is None or m.end() < best[0].end()):
                # among phrases of as many words the tightest wins: "held a general strike"
                # is a strike, not "held ... to protest"
                best, best_words = (m, trig), n_words
        if best is not None:
            out.append(best)
            last_end = best[0].end()
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
        if trig.nominal and set(_words(s_text[max(0, st - 30):st])[-3:]) & lex.irrealis:
            continue  # "the planned meeting between ...": it has not happened
        if not trig.nominal and words[0].group(0).lower().endswith("ing"):
            prev = _words(s_text[max(0, st - 20):st])[-1:]
            if prev == ["from"]:
                continue  # "banned women from attending": what is prevented does not happen
            if (" " not in trig.pattern and prev and prev[0].isalpha()
                    and s_text[st - len(prev[0]) - 1:st - 1].islower()
                    and prev[0] not in _BEFORE_PARTICIPLE
                    and not prev[0].endswith(("ed", "ly"))):
                continue  # "a genocide targeting Palestinians": the noun's act, not a report
        hits.append(_Hit(trig, st, en, trig.type, trig.mode, trig.confidence,
                         first_end=en if trig.passive_form else ends[0][1]))
    return hits


# Words after which an -ing form is still a verb of the clause ("were attacking", "and
# killing", "after meeting"); after any other lower-case word it modifies that noun.
_BEFORE_PARTICIPLE = frozenset(
    "is are was were be been being am and or but by after before while when since of for in "
    "on to not also still again then without upon through like than as with against into "
    "continue continues keep keeps kept".split()
)


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
    # "agreed not to use force": a commitment to refrain, not a negated agreement
    inner = re.sub(r"\bnot\s+to\b", "", s_text[hit.start:hit.end], flags=re.IGNORECASE)
    return bool(lex.negation.search(tail)) or bool(re.search(r"\b(?:no|not|never)\b", inner,
                                                             re.IGNORECASE))


def _conditional(s_text: str, hit: _Hit, clause_start: int, lex: _Lexicon) -> bool:
    seg_start = max(s_text.rfind(";", 0, hit.start) + 1, 0)
    before = s_text[seg_start:hit.start]
    near = " ".join(_WORD.findall(before)[-3:])
    if re.search(r"\b(?:would|could|might|should|may)\b", near, re.IGNORECASE):
        # "China said it would take countermeasures": a stated intention, which is the
        # report itself; a bare "would" is a hypothesis.
        return not _intended(s_text, hit, lex)
    return _conditional_open(s_text, hit, seg_start, before, lex)


def _intended(s_text: str, hit: _Hit, lex: _Lexicon) -> bool:
    """Is the trigger announced by a speech verb ("said it would", "vowed they will")?"""
    return bool(lex.intention.search(s_text[max(0, hit.start - 60):hit.start]))


def _conditional_open(s_text: str, hit: _Hit, seg_start: int, before: str,
                      lex: _Lexicon) -> bool:
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
    if hit.trig.passive_form:
        return True
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
                elif h.type == "AGREE" and nxt.type in _MATERIAL_CONFLICT:
                    # "vowed to strike back": a threat, not a promise to cooperate
                    h.type, h.mode = "THREATEN", lex.embedded_modes["THREATEN"].get(nxt.type)
                skip.add(i + 1)
        elif (h.type in ("REJECT", "SUPPORT", "ACCUSE", "CONCEDE") and i + 1 < len(hits)
              and _object_noun(s_text, h, hits[i + 1], lex)):
            skip.add(i + 1)  # "turned down calls to disarm": the calls are what is rejected
        elif out and _purpose_of(s_text, out[-1], h):
            continue  # "allowed UN monitors to visit prisons": the visit is the monitors'
        elif h.type == "PROTEST" and i + 1 < len(hits):
            # "marched through Belgrade to demand elections": the demand is the protest's aim
            nxt = hits[i + 1]
            between = s_text[h.end:nxt.start]
            participle = bool(re.search(r",\s*$", between)) and _words(
                s_text[nxt.start:nxt.end])[:1][0].endswith("ing")
            if (nxt.type in ("REQUEST", "PROTEST", "ACCUSE", "REJECT")
                    and len(_words(between)) <= 10 and not re.search(r"[;.]", between)
                    and (participle or re.search(r"\b(?:to|in)\s*$", between, re.IGNORECASE))):
                skip.add(i + 1)
        out.append(h)
    return out


def _purpose_of(s_text: str, prev: _Hit, h: _Hit) -> bool:
    """Is ``h`` an infinitive that completes the previous trigger's clause ("allowed
    monitors to visit", "sent troops to help")? Its subject is not the sentence's actor."""
    between = s_text[prev.end:h.start]
    return (not h.trig.nominal and bool(re.search(r"\bto\s*$", between))
            and len(_words(between)) <= 8 and not re.search(r"[;.,]", between))


def _object_noun(s_text: str, h: _Hit, nxt: _Hit, lex: _Lexicon) -> bool:
    """Is the next trigger a noun ("calls", "demands") that is this verb's object?"""
    if nxt.trig.nominal:
        return False
    first = _words(s_text[nxt.start:nxt.end])[:1]
    between = _words(s_text[h.end:nxt.start])
    return (bool(first) and first[0] in lex.homographs and len(between) <= 3
            and s_text[h.end:nxt.start] == s_text[h.end:nxt.start].lower())


_MATERIAL_CONFLICT = frozenset(("ASSAULT", "COERCE", "SANCTION", "MOBILIZE"))


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


def capital_names(iso3: str) -> frozenset[str]:
    """Normalised names of a country's capital(s): the city that stands for its government."""
    return _capitals().get(iso3, frozenset())


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
    out = _dedupe(events)
    cluster_events(out)  # per event: a document's events carry their cluster ids
    return out


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
    prev_start = -1  # where the trigger of the previous event starts
    prev_targets: list[str] = []
    for hit in hits:
        spec = lex.types[hit.type]
        cstart = _clause_start(s_text, hit.start, lex)
        blocked = _negated(s_text, hit, cstart, lex) or _conditional(s_text, hit, cstart, lex)
        if spec.realis_only and _infinitive(s_text, hit):
            blocked = True
        if not blocked and hit.type in _MATERIAL_CONFLICT and _intended(s_text, hit, lex):
            # "China said it would strike ...": an announced act of force is a threat
            hit.mode = lex.embedded_modes.get("THREATEN", {}).get(hit.type)
            hit.type = "THREATEN"
            spec = lex.types[hit.type]
        right = _right_groups(s_text, hit, groups, lex, spec)
        if blocked:
            used_targets.update(id(g) for g in right[:1])
            continue
        conf = hit.confidence
        passive = _passive(s_text, hit)
        actors: list[_Group] = []
        actor_ids: list[str] = []
        between = _between_pair(s_text, hit, right)
        if between:
            actors, right = between[:1], between[1:]  # "talks between A and B were held"
        elif passive:
            agent = _agent(s_text, hit, groups, lex)
            left = _left_groups(s_text, hit, groups, cstart, used_targets, lex)
            others = [g for g in right if g is not agent and g.prep != "by"]
            if agent is None:
                if not (spec.passive_theme_actor and left):
                    continue
                actors, right = left, others  # "Ethiopian troops were deployed along ..."
            else:
                actors = [agent]
                # "aid was delivered to Gaza by ...": the recipient is in a phrase;
                # "X was arrested by Y": the subject suffers the act.
                marked = [g for g in others if g.prep in spec.recipient_preps]
                if marked:
                    right = marked[:1]
                elif left:
                    right = left[-1:]
                else:
                    right = [g for g in others if g.prep in ("on", "against", "to", "with")][:1]
        else:
            right = _recipient_phrase(s_text, hit, groups, right, spec, lex)
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
            speaker = _speaker_of_clause(s_text, cstart, groups, lex)
            if speaker is not None:
                # "China said it would ...": the pronoun is the speaker of this sentence
                sid = _actor_entity(speaker, s_text, hit, entities, countries, next_first)
                actor_ids = [sid] if sid else []
            elif kind == "person" and state.last_person:
                actor_ids = [state.last_person]
            elif kind == "thing" and state.last_thing:
                actor_ids = [state.last_thing]
            elif kind == "group" and state.last_event:
                actor_ids = [state.last_event[0]]
                if not right and spec.reciprocal and state.last_event[1]:
                    prev_targets = [state.last_event[1]]
                    prev_actor = actor_ids[0]
            conf -= 0.1
        if (hit.trig.nominal and not spec.symmetric and not gerund and not between
                and not _nominal_actor_ok(s_text, hit, actors, pron)):
            continue  # "discussed new sanctions against Moscow" reports no sanction
        if hit.trig.police_type and actors and _POLICE.search(s_text[actors[-1].end:hit.start]):
            hit.type = hit.trig.police_type  # "Israeli police raided ...": law enforcement
            spec = lex.types[hit.type]
        elif (hit.trig.police_type and actors
              and _PROTESTERS.search(s_text[actors[-1].end:hit.start])):
            hit.type = "PROTEST"  # "Nepalese protesters stormed parliament": a protest
            hit.mode = hit.mode if hit.mode in lex.types["PROTEST"].mode_cues else None
            spec = lex.types[hit.type]
        if not actor_ids and prev_actor is not None and cstart <= prev_start:
            # participial clause of the same clause: ", followed by talks with B"
            actor_ids = [prev_actor]
            conf -= 0.1
        if not actor_ids:
            continue
        # Targets
        if hit.trig.target_preps:
            right = [g for g in right if g.prep in hit.trig.target_preps]
        target_ids: list[str | None] = []
        via_place: set[str] = set()  # targets named through a place ("streets of Jakarta")
        for g in right:
            tid = _entity_for(g, entities, countries)
            if tid and g.head.label == LOCATION:
                via_place.add(tid)
            ent = entities.get(tid or "")
            if (spec.verbal and not spec.symmetric and ent is not None and ent.type == LOCATION
                    and _norm_name(ent.name) not in _capitals().get(ent.country or "", ())):
                continue  # "threatened to close the Strait of Hormuz": a place, not a party
            if (spec.verbal and g.demonym_adj and g.prep == "for"
                    and (_words(s_text[g.end:g.end + 20])[:1] or [""])[0] not in lex.quantifiers):
                continue  # "rejected calls for a Palestinian state": what is asked, not who
            if tid:
                target_ids.append(tid)
        used_targets.update(id(g) for g in right)
        reciprocal = spec.reciprocal or hit.trig.reciprocal
        if (not target_ids and reciprocal and len(actor_ids) > 1 and chain
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
            if hit.trig.needs_target or spec.requires_target:
                continue
            if hit.trig.nominal and not (
                    (hit.trig.subject_only or hit.type == "ASSAULT")
                    and _nominal_subject(s_text, hit, actors, cstart)) and not (
                    _light_verb_before(s_text, hit, actors, lex)):
                continue
            target_ids = [None]
            conf -= 0.1
        place, iso = _event_place(s_text, hit, groups, entities, lex)
        mode = _mode(hit, spec, s_text, lex)
        for actor_id in actor_ids:
            for target_id in target_ids:
                if target_id == actor_id:
                    if target_id not in via_place or len(target_ids) > 1 or (
                            hit.trig.needs_target or spec.requires_target):
                        continue
                    target_id = None  # "Indonesians took to the streets of Jakarta": at home
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
        prev_start = hit.start
        prev_targets = [t for t in target_ids if t]
    return out


_POLICE = re.compile(r"\b(?:police|policemen|officers|security\s+forces|authorities|agents|"
                     r"prosecutors?|gendarmes|gendarmerie)\b", re.IGNORECASE)


_PROTESTERS = re.compile(r"\b(?:protesters|protestors|demonstrators|rioters|crowds?|mobs?|"
                         r"students|activists)\b", re.IGNORECASE)


def _between_pair(s_text: str, hit: _Hit, right: list[_Group]) -> list[_Group]:
    """"talks between Indian and Chinese commanders": both sides follow the noun."""
    if not hit.trig.nominal or len(right) < 2:
        return []
    if not re.search(r"\bbetween\s*$", s_text[hit.start:hit.end], re.IGNORECASE):
        return []
    return right


def _recipient_phrase(s_text: str, hit: _Hit, groups: list[_Group], right: list[_Group],
                      spec: _TypeSpec, lex: _Lexicon) -> list[_Group]:
    """"handed over an al-Shabaab commander to Somali authorities": for acts with a
    recipient ("to", "with", "on"), that phrase is the target, not a name in the object."""
    if not spec.recipient_preps or (right and (right[0].prep in spec.recipient_preps
                                               or right[0].start >= hit.end)):
        return right
    cend = _clause_end(s_text, hit.end, lex)
    for i, g in enumerate(groups):
        if hit.first_end <= g.start <= cend and g.prep in spec.recipient_preps:
            out = [g]
            for nxt in groups[i + 1:]:
                if not _coordination(s_text[out[-1].end:nxt.start], lex):
                    break
                out.append(nxt)
            return out
    return right


def _agent(s_text: str, hit: _Hit, groups: list[_Group], lex: _Lexicon) -> _Group | None:
    """The "by" phrase of a passive trigger in its clause ("was arrested by Ugandan forces")."""
    cend = _clause_end(s_text, hit.end, lex)
    for g in groups:
        if hit.first_end <= g.start <= cend and g.prep == "by":
            if len(_words(s_text[hit.end:g.start])) <= 14:
                return g
            break
    return None


def _speaker_of_clause(s_text: str, cstart: int, groups: list[_Group],
                       lex: _Lexicon) -> _Group | None:
    """"China said it would ...": the subject of the speech verb that opens the clause."""
    head = s_text[:cstart]
    m = re.search(r"(?<![\w-])([\w-]+)(?:\s+that)?\s*$", head)
    if m is None or m.group(1).lower() not in lex.speech_forms:
        return None
    cands = [g for g in groups if g.end <= m.start() and g.prep is None]
    return cands[-1] if cands else None


_DET_OR_NUM = re.compile(r"^(?:\s*(?:a|an|the|one|two|three|several|another|new|late|fresh|"
                         r"major|deadly|overnight|\d[\d,]*))*\s*$", re.IGNORECASE)


def _nominal_subject(s_text: str, hit: _Hit, actors: list[_Group], cstart: int) -> bool:
    """"A Russian missile strike on ... killed 12": the act is the sentence's subject, so the
    sentence reports it even without a named target."""
    if not actors or (cstart > 0 and not re.search(r"[;:,–—-]\s*$", s_text[:cstart])):
        return False  # "after Pakistani shelling": a subordinate clause's noun
    return bool(_DET_OR_NUM.match(s_text[cstart:actors[-1].start]))


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
    if hit.trig.complement:
        # "called on all states to halt arms transfers to Israel": the addressee comes
        # before the infinitive; names inside it belong to the requested act
        m = re.search(r"\S\s+to\s+[a-z]", s_text[after:cend])
        if m:
            cend = after + m.start() + 1
    out: list[_Group] = []
    for g in groups:
        if g.start < hit.first_end or g.start > cend or (g.start < hit.end and g.end > hit.end):
            continue
        if g.start < hit.end and g.prep in lex.locative and g.prep not in spec.object_preps:
            continue  # "demonstrated in Dhaka against ...": a place inside the phrase
        if re.match(r"-[a-z]+(?:ed|led)\b", s_text[g.end:g.end + 12]):
            continue  # "an EU-backed plan": a modifier of the object, not a participant
        if _SPEAKER.match(s_text[g.end:g.end + 30]):
            break  # ", Turkish officials said": the source of the report, not a participant
        if not out:
            gap = s_text[min(hit.end, g.start):g.start]
            rest = [w for w in _words(gap) if w not in _DETERMINERS]
            last = _words(s_text[hit.start:hit.end])[-1:]
            if (not rest and last and last[0] in lex.locative
                    and last[0] not in spec.object_preps and last[0] not in ("from", "at")):
                continue  # "demonstrated in Tel Aviv": where, not against whom
            if not rest or (len(rest) == 1 and rest[0] in _OBJECT_PREPS):
                out.append(g)  # "supporter of Hamas", "visit Syria", "assets of Russian ..."
                continue
            if g.prep in lex.locative and g.prep != "from" and g.prep not in spec.object_preps:
                continue  # "held talks in Iran with ...": a place, not the other side
            if g.prep == "by" and not _passive(s_text, hit):
                if spec.by_marks_target and _noun_before_by(s_text, g.start) and len(
                        _words(gap)) <= 10:
                    out.append(g)  # "welcomed the decision by Serbia": Serbia's decision
                continue
            if g.prep == "of" or _indirect(gap, lex) or len(_words(gap)) > 10:
                break
            out.append(g)
            continue
        gap = s_text[out[-1].end:g.start]
        if _coordination(gap, lex):
            out.append(g)
        else:
            break
    return out


def _noun_before_by(s_text: str, start: int) -> bool:
    """"the decision by X" (a noun: X owns it), not "a truce proposed by X" (a participle)."""
    words = [w for w in _WORD.findall(s_text[max(0, start - 40):start])
             if w.lower() not in _DETERMINERS]
    if len(words) < 2 or words[-1].lower() != "by":
        return False
    w = words[-2].lower()
    return w.isalpha() and not re.search(r"(?:ed|en|wn|ld|ght|ung)$", w)


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
    lex = _lexicon()
    verbs = [w for w in _words(gap) if w.endswith(("ed", "ing")) and w not in lex.light_verbs]
    if re.match(r"\s*(?:['’]s|is|was|are|were|has|have|remains?|became|becomes)\b", gap):
        return not verbs  # "Iran is a supporter of", not "the EU is considering sanctions"
    # Without a copula or possessive, only modifiers may intervene ("new EU sanctions");
    # a verb ("discussed new sanctions") makes the noun its object.
    return not verbs


def _light_verb_before(s_text: str, hit: _Hit, actors: list[_Group], lex: _Lexicon) -> bool:
    """"Pope Leo renewed his appeal for ...": a light verb makes the noun the actor's act."""
    if not actors:
        return False
    return any(w in lex.light_verbs for w in _words(s_text[actors[-1].end:hit.start]))


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
    if spec.cue_rx is None:
        return None
    # The cue inside the trigger wins, then the nearest after it ("requested French help in
    # monitoring the ceasefire": help), then the nearest before it ("Russian drones attacked").
    best: tuple[int, int, int] | None = None
    found = None
    for m in spec.cue_rx.finditer(s_text):
        order = int((m.lastgroup or "c0")[1:])
        if spec.mode_by_order:
            key = (order, 0, 0)
        elif m.start() >= hit.start and m.end() <= hit.end:
            key = (0, 0, order)
        elif m.start() >= hit.end:
            key = (1, m.start() - hit.end, order)
        else:
            key = (2, hit.start - m.end(), order)
        if best is None or key < best:
            best, found = key, spec.mode_cues[order]
    return found


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
