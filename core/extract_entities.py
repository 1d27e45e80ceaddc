"""Document -> sentences + Mention records (rules backend or a spaCy pipeline).

Two interchangeable backends sit behind :func:`annotate`:

``rules`` (default, no download)
    spaCy's English tokenizer, our own sentence splitter (line breaks and sentence
    punctuation; tokenizer exceptions and ``abbreviations`` keep "Dec. 8",
    "M. Seman", "U.S.", "Lt. Gen." whole), then gazetteer phrase matching (countries,
    demonyms, capitals and cities, organisations, well-known people, from
    ``core/resources``) and a small rule-based finder, every lexicon of which is in
    ``core/resources/name_rules.yaml`` and ``roles.yaml``:

    * PERSON: a capitalised name after a title ("Foreign Minister Hakan Fidan",
      "Speaker of the Council of Representatives Mahmoud al-Mashhadani"), in
      apposition ("Iran's intelligence minister, Esmail Khatib"; "Islam Dotkanlou, a
      senior figure"), before a speech verb ("Yaşar Güler said"), or opening with a
      known given name; later uses of the surname ("Kalın discussed") too.
    * ORGANIZATION: capitalised phrases ending in a head noun ("Sovereignty
      Alliance", "Council of Representatives"), "Long Name (ACR)" and later uses of
      ACR, names after cue nouns ("news agency MENA"), and unknown acronyms of three
      or more capitals (two-letter ones are tentative: see ``TENTATIVE_ACRONYM``).
    * LOCATION: gazetteer places, geographic heads ("Mount X", "X Mountains") and
      unknown capitalised names after place prepositions ("killed in Hiran").

    Title Case and ALL CAPS headlines only get gazetteer matches and already known
    names, never new guesses; sentence-initial words, months, days and function words
    ("The") are never names.

``spacy:<pipeline>``
    any installed spaCy pipeline (package name or path) for NER, with the same
    gazetteers applied on top: a gazetteer match wins over an overlapping model span,
    GPE becomes COUNTRY or LOCATION through the gazetteer.

Conventions an analyst will see:

* A demonym is a COUNTRY mention of its country: "Iraqi officials" holds a mention
  "Iraqi" (key IRQ), "his Iranian counterpart" one of Iran. So "Iran" and "Iranian"
  resolve to the same entity, and event extraction can use "Iraqi officials" as a
  target. A demonym that opens an organisation name ("Iraqi Turkmen Front") is part
  of that name instead.
* Cities, regions and capitals are LOCATION mentions with ``country`` = ISO3.
* ``Mention.role`` is the title the text gives a person; ``Mention.country`` is the
  country the text ties a person or organisation to ("Iran's intelligence minister",
  "Turkish Foreign Minister", "Türkiye's MIT", "MIT chief X" -> MIT's country), else
  the gazetteer's country for a known organisation or person.
* ``Mention.key`` is the gazetteer id ("TUR", "ORG:MIT", "LOC:IRQ:baghdad",
  "PER:recep tayyip erdogan") or, for an undefined two-letter acronym,
  ``TENTATIVE_ACRONYM + text``: core.resolve keeps such a mention only if some
  document defines the acronym, and drops it otherwise.

``AnnotatedDocument.parse`` is the spaCy ``Doc`` for both backends (for ``rules`` it
holds tokens and sentence boundaries only, no tags or dependencies). It pickles.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core import yamlio
from core.errors import ConfigError
from core.model import (
    COUNTRY,
    LOCATION,
    ORGANIZATION,
    PERSON,
    AnnotatedDocument,
    Document,
    Mention,
    Sentence,
)
from core.normalize import (
    fold,
    has_turkish_letters,
    is_blank,
    norm_key,
    person_key,
    turkish_upper,
)

DEFAULT_BACKEND = "rules"
RESOURCES = Path(__file__).parent / "resources"

# When two gazetteer entries share a surface form, the first kind here wins.
_KIND_PRIORITY = {"org": 0, "acronym": 1, "person": 2, "country": 3, "demonym": 4, "capital": 5,
                  "city": 6}
_POSSESSIVE = frozenset({"'s", "’s", "'", "’"})
_TERMINATORS = frozenset({".", "!", "?", "…", "...", "!!", "?!", "!?"})
_CLOSERS = frozenset({'"', "'", "”", "’", ")", "]", "»"})
_INITIAL = re.compile(r"^[A-Z]\.$")
_ACRONYM = re.compile(r"^[A-ZÇĞİÖŞÜ][A-Z0-9ÇĞİÖŞÜ&+\-]{1,7}$")
_HYPHENS = frozenset({"-", "‐", "‑"})
_REGNAL = re.compile(r"^(?:I{2,3}|IV|V|VI{1,3}|IX|X|XI{1,3}|XIV|XV|XVI{1,3})$")  # Abdullah II
_CAMEL = re.compile(r"[a-zà-ÿ][A-ZÀ-Þ]")
_NAME_PREFIX = re.compile(r"^(?:Mc|Mac|De|Di|Da|La|Le|Van|Von)[A-Z][a-z]")  # McDonald, DeSantis
# Lower-case romanised East Asian syllable after a hyphen ("hyun", "myung", "un").
_SYLLABLE = re.compile(r"^[bcdghjklmnpstwy]{0,2}[aeiouy]{1,3}(?:ng|n|m|k|l|p)?$")
_MAX_NAME_TOKENS = 6
_MAX_ORG_TOKENS = 8


# --------------------------------------------------------------------------- gazetteer


@dataclass(frozen=True)
class GazEntry:
    """One gazetteer record a surface form points to."""

    key: str  # "TUR", "ORG:MIT", "LOC:TUR:ankara"
    label: str  # entity type
    canonical: str  # preferred name
    country: str | None  # ISO3 the entity belongs to
    kind: str  # country, demonym, capital, city, org, acronym


@dataclass
class Gazetteer:
    """All knowledge the extractor and resolver read from ``core/resources``."""

    surfaces: dict[str, GazEntry] = field(default_factory=dict)  # surface form -> entry
    by_norm: dict[str, GazEntry] = field(default_factory=dict)  # norm_key(name) -> entry
    by_key: dict[str, GazEntry] = field(default_factory=dict)  # key -> canonical entry
    acronyms: dict[str, GazEntry] = field(default_factory=dict)  # exact acronym -> entry
    titles: list[str] = field(default_factory=list)
    cues: list[str] = field(default_factory=list)  # "counterpart": a person follows
    honorifics: frozenset[str] = frozenset()
    title_modifiers: frozenset[str] = frozenset()
    person_nouns: frozenset[str] = frozenset()
    speech_verbs: frozenset[str] = frozenset()
    particles: frozenset[str] = frozenset()
    function_words: frozenset[str] = frozenset()
    name_stopwords: frozenset[str] = frozenset()
    org_heads: frozenset[str] = frozenset()
    of_words: frozenset[str] = frozenset()
    minor_words: frozenset[str] = frozenset()  # lower-case words a Title Case headline keeps
    org_cues_before: frozenset[str] = frozenset()
    org_cues_after: frozenset[str] = frozenset()
    loc_heads_after: frozenset[str] = frozenset()
    loc_heads_before: tuple[tuple[str, ...], ...] = ()
    given_names: frozenset[str] = frozenset()  # folded
    common_acronyms: frozenset[str] = frozenset()
    action_verbs: frozenset[str] = frozenset()
    abbreviations: frozenset[str] = frozenset()
    name_internal_titles: frozenset[str] = frozenset()
    place_prepositions: tuple[tuple[str, ...], ...] = ()
    place_stopwords: frozenset[str] = frozenset()
    compass_words: frozenset[str] = frozenset()
    admin_heads: frozenset[str] = frozenset()
    settlement_nouns: frozenset[str] = frozenset()
    site_modifiers: frozenset[str] = frozenset()
    person_cues_before: tuple[tuple[str, ...], ...] = ()
    org_suffixes: tuple[str, ...] = ()
    club_prefixes: frozenset[str] = frozenset()
    club_suffixes: frozenset[str] = frozenset()

    def lookup(self, text: str) -> GazEntry | None:
        """Entry for a name spelled any way (case, diacritics, British/American)."""
        if text in self.acronyms:
            return self.acronyms[text]
        return self.by_norm.get(norm_key(text))


def _split(cell: str | None) -> list[str]:
    return [p.strip() for p in (cell or "").split("|") if p.strip()]


def _read_yaml(name: str) -> dict[str, Any]:
    path = RESOURCES / name
    try:
        data = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read resource: {exc}", path) from exc
    if not isinstance(data, dict):
        raise ConfigError("resource is not a YAML mapping", path)
    return data


def _read_csv(name: str, columns: Iterable[str]) -> list[dict[str, str]]:
    path = RESOURCES / name
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise ConfigError(f"cannot read resource: {exc}", path) from exc
    missing = set(columns) - set(rows[0] if rows else {})
    if missing:
        raise ConfigError(f"resource lacks columns {sorted(missing)}", path)
    return rows


def location_key(iso3: str, name: str) -> str:
    return f"LOC:{iso3}:{norm_key(name)}"


@functools.lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """Read every gazetteer file once per process."""
    gaz = Gazetteer()
    entries: list[tuple[str, GazEntry]] = []

    for row in _read_csv("countries.csv", ("iso3", "name", "aliases", "demonyms", "capital")):
        iso3, name = row["iso3"].strip(), row["name"].strip()
        country = GazEntry(iso3, COUNTRY, name, iso3, "country")
        entries += [(s, country) for s in [name, *_split(row["aliases"])]]
        entries += [(s, GazEntry(iso3, COUNTRY, name, iso3, "demonym"))
                    for s in _split(row["demonyms"])]
        if row["capital"].strip():
            cap = row["capital"].strip()
            entries.append((cap, GazEntry(location_key(iso3, cap), LOCATION, cap, iso3,
                                          "capital")))
    for row in _read_csv("cities.csv", ("name", "iso3", "aliases")):
        iso3, name = row["iso3"].strip(), row["name"].strip()
        city = GazEntry(location_key(iso3, name), LOCATION, name, iso3 or None, "city")
        entries += [(s, city) for s in [name, *_split(row["aliases"])]]
    for org in _read_yaml("orgs.yaml").get("organizations", []):
        try:
            key, name = f"ORG:{org['key']}", str(org["name"])
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"organisation entry without key/name: {org}",
                              RESOURCES / "orgs.yaml") from exc
        iso3 = org.get("country") or None
        entry = GazEntry(key, ORGANIZATION, name, iso3, "org")
        entries += [(str(s), entry) for s in [name, *(org.get("aliases") or [])]]
        for acr in org.get("acronyms") or []:
            acr_entry = GazEntry(key, ORGANIZATION, name, iso3, "acronym")
            entries.append((str(acr), acr_entry))
            gaz.acronyms[str(acr)] = acr_entry

    for person in _read_yaml("persons.yaml").get("persons", []):
        try:
            name = str(person["name"])
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"person entry without name: {person}",
                              RESOURCES / "persons.yaml") from exc
        entry = GazEntry(person_key(name), PERSON, name, person.get("country") or None, "person")
        entries += [(str(s), entry) for s in [name, *(person.get("aliases") or [])]]

    for surface, entry in entries:
        gaz.by_key.setdefault(entry.key, GazEntry(entry.key, entry.label, entry.canonical,
                                                  entry.country, entry.kind))
        for form in _surface_variants(surface, entry.kind):
            old = gaz.surfaces.get(form)
            if old is None or _KIND_PRIORITY[entry.kind] < _KIND_PRIORITY[old.kind]:
                gaz.surfaces[form] = entry
        if entry.kind != "acronym":
            gaz.by_norm.setdefault(norm_key(surface), entry)

    roles = _read_yaml("roles.yaml")
    gaz.titles = [str(t) for t in roles.get("titles", [])]
    gaz.cues = [str(t) for t in roles.get("cues", [])]
    gaz.honorifics = frozenset(str(t) for t in roles.get("honorifics", []))
    gaz.title_modifiers = frozenset(str(t).lower() for t in roles.get("title_modifiers", []))
    gaz.person_nouns = frozenset(str(t).lower() for t in roles.get("person_nouns", []))
    rules = _read_yaml("name_rules.yaml")
    gaz.speech_verbs = frozenset(str(t) for t in rules.get("speech_verbs", []))
    gaz.particles = frozenset(str(t) for t in rules.get("name_particles", []))
    gaz.function_words = frozenset(str(t) for t in rules.get("function_words", []))
    gaz.name_stopwords = gaz.function_words | frozenset(
        str(t) for t in rules.get("name_stopwords", []))
    gaz.org_heads = frozenset(str(t) for t in rules.get("org_heads", []))
    gaz.of_words = frozenset(str(t) for t in rules.get("of_words", []))
    path = RESOURCES / "given_names.txt"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read resource: {exc}", path) from exc
    gaz.given_names = frozenset(fold(x.strip()) for x in lines
                                if x.strip() and not x.startswith("#"))
    gaz.minor_words = frozenset(w.lower() for w in gaz.function_words) | frozenset(
        w for w in gaz.particles if w.islower())
    gaz.common_acronyms = frozenset(str(t) for t in rules.get("common_acronyms", []))
    gaz.action_verbs = frozenset(str(t) for t in rules.get("action_verbs", []))
    gaz.abbreviations = frozenset(str(t) for t in rules.get("abbreviations", []))
    gaz.name_internal_titles = frozenset(str(t) for t in rules.get("name_internal_titles", []))
    gaz.place_stopwords = frozenset(str(t) for t in rules.get("place_stopwords", []))
    gaz.compass_words = frozenset(str(t) for t in rules.get("compass_words", []))
    gaz.admin_heads = frozenset(str(t) for t in rules.get("admin_heads", []))
    gaz.settlement_nouns = frozenset(str(t) for t in rules.get("settlement_nouns", []))
    gaz.site_modifiers = frozenset(str(t) for t in rules.get("site_modifiers", []))
    gaz.person_cues_before = tuple(tuple(str(t).split()) for t in
                                   rules.get("person_cues_before", []))
    gaz.org_suffixes = tuple(str(t) for t in rules.get("org_suffixes", []))
    gaz.club_prefixes = frozenset(str(t) for t in rules.get("club_prefixes", []))
    gaz.club_suffixes = frozenset(str(t) for t in rules.get("club_suffixes", []))
    gaz.place_prepositions = tuple(tuple(str(t).split()) for t in
                                   rules.get("place_prepositions", []))
    gaz.org_cues_before = frozenset(str(t) for t in rules.get("org_cues_before", []))
    gaz.org_cues_after = frozenset(str(t) for t in rules.get("org_cues_after", []))
    gaz.loc_heads_after = frozenset(str(t) for t in rules.get("location_heads_after", []))
    gaz.loc_heads_before = tuple(tuple(str(t).split()) for t in
                                 rules.get("location_heads_before", []))
    return gaz


def _surface_variants(surface: str, kind: str) -> set[str]:
    """Spellings a gazetteer name is matched in: as written, without diacritics and,
    for names of four letters or more, in ALL CAPS (headlines)."""
    forms = {surface, fold(surface)}
    if kind != "acronym" and len(fold(surface)) >= 4:
        forms |= {surface.upper(), fold(surface).upper()}
        if has_turkish_letters(surface) or "i" in surface:
            forms.add(turkish_upper(surface))
    return {f for f in forms if f.strip()}


# --------------------------------------------------------------------------- spaCy plumbing


def _sentence_starts(words: list[str], lower_first: list[bool],
                     abbreviations: frozenset[str] = frozenset()) -> list[bool]:
    """Sentence starts over tokens: after a line break, or after sentence punctuation
    (plus closing quotes/brackets) when the next word does not start lower case and
    the full stop does not close an abbreviation ("Lt. Gen.")."""
    n = len(words)
    starts = [False] * n
    if n:
        starts[0] = True
    i = 0
    while i < n:
        w = words[i]
        if "\n" in w and w.isspace():
            if i + 1 < n:
                starts[i + 1] = True
        elif w in _TERMINATORS and not (w == "." and i > 0 and words[i - 1] in abbreviations):
            j = i + 1
            while j < n and words[j] in _CLOSERS:
                j += 1
            newline = False
            while j < n and words[j].isspace():
                newline = newline or "\n" in words[j]
                j += 1
            if j < n and (newline or not lower_first[j]):
                starts[j] = True
            i = j - 1 if j > i + 1 else i
        i += 1
    return starts


def _make_sentencizer() -> Any:
    from spacy.language import Language

    if not Language.has_factory("dyad_sentences"):

        @Language.component("dyad_sentences")
        def dyad_sentences(doc: Any) -> Any:
            import numpy
            from spacy.attrs import SENT_START

            words = [t.text for t in doc]
            if not words:
                return doc
            lower_first = [w[:1].islower() for w in words]
            # One array write: setting Token.is_sent_start per token is quadratic.
            abbreviations = load_gazetteer().abbreviations
            flags = [1 if s else -1 for s in _sentence_starts(words, lower_first, abbreviations)]
            array = numpy.asarray(flags, dtype="int64").astype("uint64").reshape(-1, 1)
            doc.from_array([SENT_START], array)
            return doc

    return "dyad_sentences"


@dataclass
class _Backend:
    nlp: Any
    gaz_matcher: Any
    role_matcher: Any
    use_model_ents: bool


_BACKENDS: dict[str, _Backend] = {}  # built once per process


def _build_matchers(nlp: Any, gaz: Gazetteer) -> tuple[Any, Any]:
    from spacy.matcher import PhraseMatcher

    gaz_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
    forms = sorted(gaz.surfaces)
    gaz_matcher.add("GAZ", list(nlp.tokenizer.pipe(forms)))
    role_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    # Tokenise titles as written and in lower case: "Lt." splits differently from "lt.".
    titles = sorted({f for t in gaz.titles for f in (t, t.lower(), t[:1].upper() + t[1:])})
    role_matcher.add("TITLE", list(nlp.tokenizer.pipe(titles)))
    if gaz.cues:
        cues = sorted({f for t in gaz.cues for f in (t, t.lower(), t[:1].upper() + t[1:])})
        role_matcher.add("CUE", list(nlp.tokenizer.pipe(cues)))
    return gaz_matcher, role_matcher


def ready(backend: str) -> None:
    """Build the backend now (spaCy, gazetteer matchers), so the first document is quick."""
    _get_backend(backend)


def _get_backend(backend: str) -> _Backend:
    cached = _BACKENDS.get(backend)
    if cached is not None:
        return cached
    import spacy

    gaz = load_gazetteer()
    if backend == "rules":
        nlp = spacy.blank("en")
        nlp.add_pipe(_make_sentencizer())
        use_model = False
    elif backend.startswith("spacy:") and backend[len("spacy:"):].strip():
        name = backend[len("spacy:"):].strip()
        try:
            nlp = spacy.load(name)
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(
                f"spaCy pipeline {name!r} is not installed or cannot be loaded "
                f"(install it, e.g. `python -m spacy download en_core_web_sm`, or use "
                f"backend 'rules'): {exc}") from exc
        if "ner" not in nlp.pipe_names:
            raise ConfigError(f"spaCy pipeline {name!r} has no 'ner' component")
        if not any(p in nlp.pipe_names for p in ("parser", "senter", "sentencizer")):
            nlp.add_pipe(_make_sentencizer(), first=True)
        use_model = True
    else:
        raise ConfigError(
            f"unknown entity backend {backend!r}: use 'rules' or 'spacy:<pipeline>' "
            f"(e.g. 'spacy:en_core_web_sm')")
    nlp.max_length = 10**8
    gaz_matcher, role_matcher = _build_matchers(nlp, gaz)
    built = _Backend(nlp, gaz_matcher, role_matcher, use_model)
    _BACKENDS[backend] = built
    return built


# --------------------------------------------------------------------------- the finder


@dataclass
class _Span:
    start: int  # token offsets
    end: int
    label: str
    entry: GazEntry | None = None
    country: str | None = None
    role: str | None = None
    tentative: bool = False  # unknown acronym; kept by resolve only if defined somewhere


# Key prefix of a tentative acronym mention (see core.resolve).
TENTATIVE_ACRONYM = "?ACR:"


class _Finder:
    """Rule-based mention finder over one tokenised document.

    Works on plain Python lists of token strings (much faster than Token objects).
    """

    def __init__(self, doc: Any, be: _Backend, gaz: Gazetteer) -> None:
        from spacy.attrs import IDX, SENT_START, SPACY

        self.doc, self.gaz = doc, gaz
        # Plain lists from one array export: iterating Token objects is the slow part.
        self.words = [t.text for t in doc]
        self.n = len(self.words)
        cols = doc.to_array([IDX, SPACY, SENT_START]).tolist() if self.n else []
        self.idx = [c[0] for c in cols]
        self.space_after = [bool(c[1]) for c in cols]
        self.sent = [0] * self.n
        self.sent_bounds: list[tuple[int, int]] = []
        if self.n and doc.has_annotation("DEP"):
            # a parser decides boundaries through the tree; ask spaCy for them
            starts = {sent.start for sent in doc.sents}
            cols = [[c[0], c[1], 1 if i in starts else -1] for i, c in enumerate(cols)]
        sid, first = -1, 0
        for i, c in enumerate(cols):
            if c[2] == 1 or i == 0:
                if sid >= 0:
                    self.sent_bounds.append((first, i))
                sid, first = sid + 1, i
            self.sent[i] = sid
        if self.n:
            self.sent_bounds.append((first, self.n))
        self.headline = [self._is_headline(s, e) for s, e in self.sent_bounds]
        self.sent_first = [False] * self.n  # first word token of its sentence
        for s, e in self.sent_bounds:
            for i in range(s, e):
                if not self.words[i].isspace() and self.words[i] not in _CLOSERS | {'"', "“"}:
                    self.sent_first[i] = True
                    break
        self.taken = [False] * self.n
        self.owner: list[_Span | None] = [None] * self.n  # span holding each token
        self.spans: list[_Span] = []
        self.roles: dict[int, tuple[int, str]] = {}  # role end token -> (start, kind)
        self.roles_by_start: dict[int, list[tuple[int, str]]] = {}
        self.role_tok = [False] * self.n
        self.gaz_matches = [(s, e) for _, s, e in be.gaz_matcher(doc)]
        self.role_matches = [(be.nlp.vocab.strings[m], s, e) for m, s, e in be.role_matcher(doc)]

    # --- token predicates
    def _is_headline(self, s: int, e: int) -> bool:
        """Title Case or ALL CAPS line: capitalisation says nothing about names there."""
        words = [w for w in self.words[s:e] if w[:1].isalpha()]
        longer = [w for w in words if len(w) > 3]
        if len(longer) >= 3 and sum(1 for w in longer if w.isupper()) >= 0.6 * len(longer):
            return True
        # Title Case: no lower-case word beyond "of", "in", "the", particles...
        minor = self.gaz.minor_words
        return len(words) >= 4 and not any(w[:1].islower() and w not in minor for w in words)

    def is_cap(self, i: int) -> bool:
        w = self.words[i]
        return w[:1].isupper() and any(c.islower() for c in w)

    def is_name_tok(self, i: int) -> bool:
        w = self.words[i]
        if self.taken[i] or self.role_tok[i]:
            return False
        if _INITIAL.match(w):
            return True
        if _CAMEL.search(w) and not _NAME_PREFIX.match(w):  # QatarEnergy, BlackRock
            return False
        return self.is_cap(i) and w not in self.gaz.name_stopwords and w.isalpha() or (
            self.is_cap(i) and "'" in w and w.replace("'", "").isalpha())

    def glued(self, i: int) -> bool:
        """Token i is written with no space before token i + 1."""
        return not self.space_after[i]

    # --- steps
    def add(self, span: _Span) -> None:
        for k in range(span.start, span.end):
            self.taken[k] = True
            self.owner[k] = span
        self.spans.append(span)

    def remove(self, span: _Span) -> None:
        self.spans.remove(span)
        for k in range(span.start, span.end):
            self.taken[k] = False
            self.owner[k] = None

    def gazetteer(self) -> None:
        gaz = self.gaz
        cands = []
        for s, e in self.gaz_matches:
            form = self.doc[s:e].text
            entry = gaz.surfaces.get(form)
            if entry is None:
                continue
            # "Abdul Malik al-Houthi": a known name glued to al-/el- belongs to a person.
            if s >= 2 and self.words[s - 1] in _HYPHENS and self.glued(s - 1) and \
                    self.glued(s - 2) and self.words[s - 2] in gaz.particles:
                continue
            cands.append((s, e, entry))
        cands.sort(key=lambda c: (-(c[1] - c[0]), _KIND_PRIORITY[c[2].kind], c[0]))
        for s, e, entry in cands:
            if any(self.taken[k] for k in range(s, e)):
                continue
            country = entry.country if entry.label != COUNTRY else entry.key
            self.add(_Span(s, e, entry.label, entry, country))
        # Titles: longest first, never inside a gazetteer name.
        roles = sorted(self.role_matches, key=lambda r: (-(r[2] - r[1]), r[1]))
        for kind, s, e in roles:
            if any(self.taken[k] or self.role_tok[k] for k in range(s, e)):
                continue
            for k in range(s, e):
                self.role_tok[k] = True
            self.roles[e] = (s, kind)
            self.roles_by_start.setdefault(s, []).append((e, kind))

    def _unknown_run(self, i: int, limit: int = 4) -> int:
        """End of a run of capitalised or ALL-CAPS words at i that nothing claimed."""
        j = i
        while j < self.n and j - i < limit and not self.taken[j] and not self.role_tok[j] and \
                self.sent[j] == self.sent[i] and self.words[j] not in self.gaz.function_words \
                and (self.is_cap(j) or _ACRONYM.match(self.words[j])):
            j += 1
        return j

    def cue_orgs(self) -> None:
        """'the state news agency MENA', 'Yonhap news agency': cue nouns mark orgs;
        so do name endings of clubs and firms ('Samsunspor')."""
        gaz = self.gaz
        for i in range(self.n - 1):
            if self.words[i] in gaz.club_prefixes and not self.taken[i] and \
                    not self.headline[self.sent[i]] and \
                    (self.is_cap(i + 1) or self._gaz_place(i + 1)):
                end = self._span_end(i + 1)
                nxt = self._span_at(i + 1)
                if nxt is not None and (nxt.start != i + 1 or nxt.label not in (LOCATION, COUNTRY)):
                    continue
                if nxt is not None:
                    self.remove(nxt)
                self.add(_Span(i, end, ORGANIZATION))
        if gaz.org_suffixes:
            for i in range(self.n):
                w = self.words[i]
                if not self.taken[i] and self.is_cap(i) and w.endswith(gaz.org_suffixes) and \
                        not self.headline[self.sent[i]] and w not in gaz.function_words:
                    self.add(_Span(i, i + 1, ORGANIZATION))
        for i in range(1, self.n):
            if self.words[i] in gaz.club_suffixes and not self.taken[i] and \
                    not self.headline[self.sent[i]]:
                s = i
                while s > 0 and i - s < 3 and not self.role_tok[s - 1] and \
                        self.words[s - 1] not in gaz.function_words and (
                            (not self.taken[s - 1] and self.is_cap(s - 1)) or
                            self._gaz_place(s - 1)):
                    s = self._span_at(s - 1).start if self.taken[s - 1] else s - 1
                if s < i:
                    for sp in [x for x in self.spans if s <= x.start and x.end <= i]:
                        self.remove(sp)
                    self.add(_Span(s, i + 1, ORGANIZATION))  # "Pyramids FC"
                    continue
            if self.headline[self.sent[i]] or self.taken[i]:
                continue
            if self.words[i - 1] in gaz.org_cues_before:
                e = self._unknown_run(i)
                if e > i:
                    self.add(_Span(i, e, ORGANIZATION))
                    continue
            if self.words[i] in gaz.org_cues_after and self.words[i].islower():
                end = i - 1 if self.words[i - 1] == "news" else i
                start = end
                while start > 0 and end - start < 4 and not self.taken[start - 1] and \
                        not self.role_tok[start - 1] and self.sent[start - 1] == self.sent[i] and \
                        self.words[start - 1] not in gaz.function_words and \
                        (self.is_cap(start - 1) or _ACRONYM.match(self.words[start - 1])):
                    start -= 1
                if start < end:
                    self.add(_Span(start, end, ORGANIZATION))

    def geo_locations(self) -> None:
        """'Zagros Mountains', 'Mount Lewotobi', 'Gulf of Oman': geographic names."""
        gaz = self.gaz
        self._loc_first = {h[0] for h in gaz.loc_heads_before}
        for i in range(self.n):
            if self.taken[i] or self.headline[self.sent[i]]:
                continue
            w = self.words[i]
            prev = self._span_at(i - 1) if i > 0 else None
            if w in gaz.loc_heads_after and prev is not None and prev.end == i and \
                    prev.label == LOCATION and w[:1].isupper():
                # a known place named with its head: "Fergana Valley", "Punjab Province"
                self.remove(prev)
                self.add(_Span(prev.start, i + 1, LOCATION))
                continue
            if w in gaz.loc_heads_after and i > 0 and not self.taken[i - 1] and \
                    self.is_cap(i - 1) and self.words[i - 1] not in gaz.function_words:
                start = i - 1
                while start > 0 and i - start < 3 and not self.taken[start - 1] and \
                        self.is_cap(start - 1) and self.words[start - 1] not in gaz.function_words \
                        and not self.sent_first[start]:
                    start -= 1
                if not self.role_tok[start]:
                    self.add(_Span(start, i + 1, LOCATION))
                continue
            if w not in self._loc_first:
                continue
            for head in gaz.loc_heads_before:
                k = i + len(head)
                if tuple(self.words[i:k]) == head and k < self.n and not self.taken[k]:
                    e = self._unknown_run(k, 3)
                    if e > k and all(self.is_cap(x) for x in range(k, e)):
                        self.add(_Span(i, e, LOCATION))
                        break

    def _org_extend_of(self, h: int, limit: int) -> int:
        """After a head noun, take "of/for [the] Words" ("Council of Representatives")."""
        j = h + 1
        if j < limit and self.words[j] in ("of", "for"):
            k = j + 1
            if k < limit and self.words[k] == "the":
                k += 1
            end = k
            while end < limit and (self.words[end] in self.gaz.of_words or self._gaz_place(end)
                                   or (self.words[end] == "and" and end + 1 < limit
                                       and self.words[end + 1] in self.gaz.of_words)):
                end = self._span_end(end)
            if end > k:
                return end
        return h + 1

    def _gaz_place(self, i: int) -> bool:
        sp = self._span_at(i)
        return sp is not None and sp.label in (COUNTRY, LOCATION) and sp.start == i

    def _span_at(self, i: int) -> _Span | None:
        return self.owner[i] if 0 <= i < self.n else None

    def _span_end(self, i: int) -> int:
        sp = self._span_at(i)
        return sp.end if sp is not None and sp.start == i else i + 1

    def generic_orgs(self) -> None:
        """Capitalised phrases ending in an organisation head noun."""
        gaz = self.gaz
        i = 0
        while i < self.n:
            if self.headline[self.sent[i]] or not self._org_word(i):
                i += 1
                continue
            # collect a run of capitalised words / places, joined by of/for/and/the
            j = i
            heads = []
            while j < self.n and self.sent[j] == self.sent[i] and j - i < _MAX_ORG_TOKENS:
                if self._org_word(j):
                    last = self._span_end(j) - 1
                    if self.words[last] in gaz.org_heads:
                        heads.append(last)
                    j = last + 1
                elif self.words[j] in ("of", "for", "and", "&") and j + 1 < self.n and \
                        self._org_word(j + 1 if self.words[j + 1] != "the" else j + 2) and \
                        heads:
                    j += 1
                elif self.words[j] in _HYPHENS and self.glued(j - 1) and self.glued(j) and \
                        j + 1 < self.n and self.is_cap(j + 1):
                    j += 1
                else:
                    break
            if not heads:
                i = max(j, i + 1)
                continue
            h = heads[-1]
            end = self._org_extend_of(h, j)
            start = i
            if end - start >= 2 and not self._is_covered(start, end):
                country = None
                absorbed = [sp for sp in self.spans if start <= sp.start and sp.end <= end]
                for sp in absorbed:
                    if sp.label == COUNTRY and sp.start == start:
                        country = sp.country
                    self.remove(sp)
                # A known body spelled another way ("Organisation") keeps its key.
                entry = self.gaz.lookup(self._text(start, end))
                if entry is not None and entry.label != ORGANIZATION:
                    entry = None
                self.add(_Span(start, end, ORGANIZATION, entry,
                               country or (entry.country if entry else None)))
            i = max(end, i + 1)

    def _org_word(self, i: int) -> bool:
        if i >= self.n:
            return False
        w = self.words[i]
        sp = self._span_at(i)
        if sp is not None:
            if sp.start != i:
                return False
            return sp.label in (COUNTRY, LOCATION) or (
                sp.label == ORGANIZATION and self.words[sp.end - 1] in self.gaz.org_heads)
        if self.role_tok[i]:
            return False
        return self.is_cap(i) and w not in self.gaz.function_words

    def _is_covered(self, start: int, end: int) -> bool:
        """The phrase is only gazetteer names (places or one known org): nothing new."""
        if all(self._span_at(k) is not None and self._span_at(k).label != ORGANIZATION
               for k in range(start, end)):
            return True
        sp = self._span_at(start)
        return sp is not None and sp.start == start and sp.end == end

    def acronyms(self) -> None:
        """'Long Name (ACR)': the acronym is an ORG mention, and so is each later use."""
        defined: dict[str, _Span] = {}
        for i in range(1, self.n - 2):
            if self.words[i] != "(" or self.words[i + 2] != ")":
                continue
            acr = self.words[i + 1]
            if not _ACRONYM.match(acr) or not acr.replace("&", "").isalnum():
                continue
            before = self._span_at(i - 1)
            if before is None or before.end != i:
                long_span = self._initials_run(i, acr)
                if long_span is None:
                    continue
                before = long_span
            if before.label != ORGANIZATION:
                continue
            if not self.taken[i + 1]:
                self.add(_Span(i + 1, i + 2, ORGANIZATION, None, before.country))
            defined[acr] = before
        common = self.gaz.common_acronyms
        for i, w in enumerate(self.words):
            if self.taken[i] or self.headline[self.sent[i]] or self.role_tok[i]:
                continue
            if w in defined:
                self.add(_Span(i, i + 1, ORGANIZATION, None, defined[w].country))
            elif 2 <= len(w) <= 6 and w.isalpha() and w.isupper() and w not in common and \
                    not _REGNAL.match(w) and \
                    w.capitalize() not in self.gaz.function_words:
                # Unknown acronyms in running text are mostly bodies (UNIFIL, ELN);
                # two letters are too ambiguous unless some document defines them.
                self.add(_Span(i, i + 1, ORGANIZATION, tentative=len(w) < 3))

    def _initials_run(self, paren: int, acr: str) -> _Span | None:
        """An unknown 'Long Name' before '(ACR)' whose initials spell the acronym."""
        letters = [c for c in acr if c.isalpha()]
        j, picked = paren - 1, []
        while j >= 0 and len(picked) < len(letters) + 3:
            w = self.words[j]
            if self.taken[j] or self.role_tok[j]:
                break
            if self.is_cap(j) or _ACRONYM.match(w):
                picked.append(j)
            elif w not in ("of", "for", "and", "the", "&", "on", "in"):
                break
            j -= 1
            if len(picked) >= len(letters) and \
                    "".join(fold(self.words[k])[0].upper() for k in reversed(picked)) == \
                    "".join(letters).upper():
                span = _Span(picked[-1], paren, ORGANIZATION)
                self.add(span)
                return span
        return None

    # --- persons
    def name_run(self, i: int) -> int:
        """End of the personal name starting at token i (i itself if none)."""
        gaz, j, count, last_name = self.gaz, i, 0, i
        while j < self.n and count < _MAX_NAME_TOKENS and self.sent[j] == self.sent[i]:
            w = self.words[j]
            if self.is_name_tok(j):
                count += 1
                j += 1
                last_name = j
                # hyphenated parts: Abdul-Latif
                if j + 1 < self.n and self.words[j] in _HYPHENS and self.glued(j - 1) and \
                        self.glued(j) and self.is_name_tok(j + 1):
                    j += 1
                elif j + 1 < self.n and self.words[j] in _HYPHENS and self.glued(j - 1) and \
                        self.glued(j) and _SYLLABLE.match(self.words[j + 1]) and \
                        len(self.words[j - 1]) <= 6:
                    j += 2  # "Jun Young-hyun": a lower-case syllable ends the name
                    last_name = j
                    break
                continue
            if count and w in gaz.name_internal_titles and j + 1 < self.n and \
                    self.sent[j + 1] == self.sent[i] and self.is_name_tok(j + 1):
                j += 1  # "Hassan Sheikh Mohamud"
                continue
            if count and _REGNAL.match(w) and not self.taken[j]:
                j += 1
                last_name = j
                break
            if w in gaz.particles and not self.taken[j] and j > i or (
                    w in gaz.particles and w[:1].isupper() and j == i):
                k = j + 1
                if k < self.n and self.words[k] in _HYPHENS and self.glued(j) and self.glued(k):
                    k += 1
                if k < self.n and (self.is_name_tok(k) or self.words[k] in gaz.particles):
                    j = k
                    continue
            break
        return last_name if count else i

    def _role_ending_at(self, e: int) -> tuple[int, str] | None:
        return self.roles.get(e)

    def _skip_back_acronym(self, j: int) -> int:
        """Index before a '(ACR)' group ending at j, else j."""
        if j >= 2 and self.words[j] == ")" and self.words[j - 2] == "(":
            return j - 3
        return j

    def title_left(self, i: int) -> tuple[bool, str | None, str | None]:
        """Is the name at token i announced by a title on its left?

        Returns (found, role text, country ISO3).
        """
        j = i - 1
        if j < 0:
            return False, None, None
        if self.words[j] in self.gaz.honorifics:
            return True, None, self._country_before(j)
        j = self._skip_back_acronym(j)
        appositive = False
        if j >= 0 and self.words[j] == ",":
            appositive, j = True, j - 1
        # "<title> of [the] <ORG/place> Name"
        sp = self._span_at(j) if j >= 0 else None
        if sp is not None and sp.end == j + 1 and not appositive:
            k = sp.start - 1
            if k >= 0 and self.words[k] == "the":
                k -= 1
            if k >= 0 and self.words[k] in ("of", "for"):
                role = self._role_ending_at(k)
                if role is not None:
                    text = self._text(role[0], sp.end)
                    return True, text, sp.country or self._country_before(role[0] - 1)
            return False, None, None
        role = self._role_ending_at(j + 1)
        if role is None:
            return False, None, None
        start, kind = role
        first = start
        # "Deputy Prime Minister and Foreign Minister"
        while first >= 2 and self.words[first - 1] == "and" and \
                self._role_ending_at(first - 1) is not None:
            first = self._role_ending_at(first - 1)[0]
        k = first - 1
        while k >= 0 and self.words[k].lower() in self.gaz.title_modifiers:
            k -= 1
        role_text = self._text(first, j + 1) if kind == "TITLE" else None
        country = None
        k = self._skip_back_acronym(k)
        before = self._span_at(k) if k >= 0 else None
        if before is not None and before.end == k + 1:
            country = before.country
            if before.label == ORGANIZATION and role_text:
                role_text = f"{self._text(before.start, before.end)} {role_text}"
        elif k >= 1 and self.words[k] in _POSSESSIVE:
            owner = self._span_at(k - 1)
            if owner is not None:
                country = owner.country
        if appositive and kind != "TITLE":
            return False, None, None
        return True, role_text, country

    def _country_before(self, k: int) -> str | None:
        sp = self._span_at(k) if k >= 0 else None
        return sp.country if sp is not None and sp.end == k + 1 else None

    def title_right(self, e: int) -> tuple[bool, str | None, str | None]:
        """', the Turkish foreign minister' / ', a senior figure' after a name."""
        if e >= self.n or self.words[e] != ",":
            return False, None, None
        j = e + 1
        if j < self.n and self.words[j].lower() == "who":
            return True, None, None
        article = j < self.n and self.words[j].lower() in ("a", "an", "the")
        if article:
            j += 1
        country = None
        for _ in range(6):
            if j >= self.n:
                break
            sp = self._span_at(j)
            if sp is not None and sp.start == j and sp.label in (COUNTRY, LOCATION):
                country, j = sp.country, sp.end
                if j < self.n and self.words[j] in _POSSESSIVE:
                    j += 1
                continue
            role = next((r for r in self._roles_starting(j)), None)
            if role is not None:
                end, kind = role
                return True, (self._text(j, end) if kind == "TITLE" else None), country
            if article and self.words[j].lower() in self.gaz.person_nouns:
                return True, None, country
            if self.words[j][:1].islower() or self.words[j].lower() in self.gaz.title_modifiers:
                j += 1
                continue
            break
        return False, None, None

    def _roles_starting(self, j: int) -> list[tuple[int, str]]:
        return self.roles_by_start.get(j, [])

    def _text(self, s: int, e: int) -> str:
        return self.doc[s:e].text

    def persons(self) -> None:
        i = 0
        speech = self.gaz.speech_verbs
        while i < self.n:
            if self.headline[self.sent[i]] or not self.is_name_tok(i) or (
                    i > 0 and self.is_name_tok(i - 1) and self.sent[i - 1] == self.sent[i]):
                i += 1
                continue
            e = self.name_run(i)
            if e <= i:
                i += 1
                continue
            ntok = sum(1 for k in range(i, e) if self.is_name_tok(k))
            if _INITIAL.match(self.words[e - 1]):
                i = e
                continue
            found, role, country = self.title_left(i)
            if not found:
                found, role, country = self.title_right(e)
                if found and ntok < 2:
                    found = False
            if not found and e < self.n and (
                    (self.words[e] in speech and (ntok >= 2 or not self.sent_first[i]))
                    or (self.words[e] in self.gaz.action_verbs and ntok >= 2)):
                found = True
            if not found and i >= 1 and self.words[i - 1] in speech and ntok >= 2 and \
                    (e >= self.n or self.words[e] in (",", ".", ";")):
                found = True
            if not found and ntok >= 2 and any(
                    tuple(self.words[i - len(p):i]) == p for p in self.gaz.person_cues_before):
                found = True  # "a coalition led by Milojko Spajić"
            # "Ethiopia's Gudaf Tsegay": a country's possessive then a 2+ word name
            if not found and ntok >= 2 and i >= 2 and self.words[i - 1] in _POSSESSIVE and \
                    (e >= self.n or self.words[e] not in _HYPHENS) and \
                    self._span_at(i - 2) is not None and self._span_at(i - 2).label == COUNTRY:
                found = True
            if not found and i >= 2 and self.words[i - 2].lower() == "according" and \
                    self.words[i - 1] == "to" and ntok >= 2:
                found = True
            # "Novak Djokovic beat ...": a known given name opening a 2+ word name.
            if not found and ntok >= 2 and fold(self.words[i]) in self.gaz.given_names:
                found = True
            if found:
                self.add(_Span(i, e, PERSON, None, country, role))
            i = e

    def propagate_names(self) -> None:
        """Later (or earlier) uses of a found name or surname are PERSON mentions."""
        known: dict[str, tuple[str | None, str | None]] = {}
        for sp in self.spans:
            if sp.label != PERSON:
                continue
            toks = [k for k in range(sp.start, sp.end) if self.is_cap(k)]
            if not toks:
                continue
            known[norm_key(self._text(sp.start, sp.end))] = (None, None)
            last = self.words[toks[-1]]
            known.setdefault(norm_key(last), (None, None))
            # "al-Sudani" is also referred to as "Sudani"
            if sp.end - sp.start >= 3 and self.words[sp.end - 2] in _HYPHENS and \
                    self.words[sp.end - 3] in self.gaz.particles:
                known.setdefault(norm_key(self._text(sp.end - 3, sp.end)), (None, None))
        if not known:
            return
        i = 0
        while i < self.n:
            if not self.is_name_tok(i) and not (self.words[i] in self.gaz.particles
                                                and self.words[i][:1].isupper()):
                i += 1
                continue
            e = self.name_run(i)
            if e > i:
                for end in range(e, i, -1):
                    if norm_key(self._text(i, end)) in known:
                        self.add(_Span(i, end, PERSON))
                        e = end
                        break
            i = max(e, i + 1)

    def places_after_prepositions(self) -> None:
        """'killed in Hiran', 'the town of Agadir': unknown capitalised names after
        place prepositions are LOCATIONs (never at a sentence start, in headlines,
        before a possessive, or when a known given name opens them)."""
        gaz = self.gaz
        firsts = {p[-1] for p in gaz.place_prepositions}
        for i in range(1, self.n):
            if self.words[i - 1] not in firsts or self.headline[self.sent[i]]:
                continue
            known = self._span_at(i)
            if known is not None and known.start == i and known.label == LOCATION and \
                    any(tuple(self.words[i - len(p):i]) == p for p in gaz.place_prepositions):
                self._coordinated_places(known.end)  # "in Skopje and Tetovo"
                continue
            if not self.is_name_tok(i) or self.sent_first[i] or _INITIAL.match(self.words[i]):
                continue
            if not any(tuple(self.words[i - len(p):i]) == p for p in gaz.place_prepositions):
                continue
            e = self._place_run(i)
            # "Gilgit-Baltistan": capitalised parts joined by a hyphen stay one place
            while e + 1 < self.n and self.words[e] in _HYPHENS and self.glued(e - 1) and \
                    self.glued(e) and self.is_name_tok(e + 1):
                e = self._place_run(e + 1)
            if e < self.n and (self.words[e] in _POSSESSIVE or (
                    self.words[e] in _HYPHENS and self.glued(e - 1))):  # Turkmen-populated
                continue
            if fold(self.words[i]) in gaz.given_names or self.words[i] in gaz.place_stopwords:
                continue
            self.add(_Span(i, e, LOCATION))
            self._coordinated_places(e)

    def _place_run(self, i: int) -> int:
        """End of an unknown place name at i (up to three capitalised words)."""
        e = i
        while e < self.n and e - i < 3 and self.is_name_tok(e) and self.sent[e] == self.sent[i]:
            e += 1
        return e

    def _coordinated_places(self, e: int) -> None:
        """'in Puno and Cusco': an unknown name joined to a found place is a place too."""
        while e + 1 < self.n and self.words[e] in ("and", "or", ",") and \
                self.is_name_tok(e + 1) and fold(self.words[e + 1]) not in self.gaz.given_names:
            end = self._place_run(e + 1)
            if end < self.n and (self.words[end] in _POSSESSIVE or self.words[end] in
                                 self.gaz.speech_verbs or self.words[end] in _HYPHENS):
                return
            self.add(_Span(e + 1, end, LOCATION))
            e = end

    def compass_places(self) -> None:
        """'in North Waziristan', 'in southern Kordofan's ...': a compass word then an
        unknown name after a place preposition is a LOCATION ('North' included when
        capitalised)."""
        gaz = self.gaz
        firsts = {p[-1] for p in gaz.place_prepositions}
        for i in range(self.n - 1):
            w = self.words[i]
            nxt = self._span_at(i + 1)
            if w in gaz.compass_words and w[:1].isupper() and not self.taken[i] and \
                    nxt is not None and nxt.start == i + 1 and nxt.label == LOCATION and \
                    nxt.entry is not None and nxt.entry.kind == "city":
                # "North Kordofan", "Central Java": the compass word is part of the name
                self.remove(nxt)
                self.add(_Span(i, nxt.end, LOCATION, nxt.entry, nxt.country))
                continue
            if i == 0 or w not in gaz.compass_words or self.taken[i] or \
                    self.words[i - 1] not in firsts \
                    or self.headline[self.sent[i]] or not self.is_name_tok(i + 1):
                continue
            e = self._place_run(i + 1)
            if e < self.n and self.words[e] in _POSSESSIVE:
                continue
            self.add(_Span(i if w[:1].isupper() else i + 1, e, LOCATION))

    def admin_places(self) -> None:
        """'Kasai province', 'Chapare region', 'Aichi prefecture': an unknown name before
        a lower-case administrative head, or in apposition to 'a town/city/village'."""
        gaz = self.gaz
        for i in range(1, self.n):
            w = self.words[i]
            if w in gaz.admin_heads and not self.headline[self.sent[i]]:
                # "Khor Mor gas field": one modifier may sit between name and head
                last = i - 1 if self.words[i - 1] not in gaz.site_modifiers else i - 2
                if last < 0 or not self.is_name_tok(last):
                    continue
                s = last
                while s > 0 and last - s < 3 and not self.sent_first[s] and (
                        self.is_name_tok(s - 1) or (
                            self.words[s - 1] in _HYPHENS and s >= 2 and self.glued(s - 2)
                            and self.glued(s - 1) and self.is_name_tok(s - 2))):
                    s -= 1 if self.is_name_tok(s - 1) else 2
                if self.sent_first[s] and last == s and self.words[s] in gaz.function_words:
                    continue
                self.add(_Span(s, last + 1, LOCATION))
            elif w in _HYPHENS and i + 1 < self.n and self.words[i + 1] == "based" and \
                    self.glued(i - 1) and self.glued(i) and self.is_name_tok(i - 1) and \
                    not self.headline[self.sent[i]] and not self.sent_first[i - 1] and \
                    fold(self.words[i - 1]) not in gaz.given_names:
                self.add(_Span(i - 1, i, LOCATION))  # "a Zorvia-based group"
            elif w == "," and i + 2 < self.n and self.words[i + 1] in ("a", "the") and \
                    self.is_name_tok(i - 1) and not self.headline[self.sent[i]]:
                j = i + 2
                while j < self.n and j - i < 5 and self.words[j] not in gaz.settlement_nouns \
                        and self.words[j][:1].islower() or (j < self.n and
                                                              self._gaz_place(j)):
                    j = self._span_end(j)
                if j >= self.n or self.words[j] not in gaz.settlement_nouns:
                    continue
                s = i - 1
                while s > 0 and i - s < 3 and self.is_name_tok(s - 1):
                    s -= 1
                if fold(self.words[s]) in gaz.given_names:
                    continue
                self.add(_Span(s, i, LOCATION))

    def possessive_countries(self) -> None:
        """"Türkiye's National Intelligence Organisation": the org belongs to TUR."""
        for sp in self.spans:
            if sp.label != ORGANIZATION or sp.country or sp.start < 2:
                continue
            if self.words[sp.start - 1] in _POSSESSIVE:
                owner = self._span_at(sp.start - 2)
                if owner is not None and owner.label == COUNTRY:
                    sp.country = owner.country
            elif sp.entry is None:
                owner = self._span_at(sp.start - 1)
                if owner is not None and owner.label == COUNTRY and owner.entry and \
                        owner.entry.kind == "demonym":
                    sp.country = owner.country

    def known_person_titles(self) -> None:
        """Titles and countries for people the gazetteer (or a model) found."""
        for sp in self.spans:
            if sp.label == PERSON and sp.role is None:
                found, role, country = self.title_left(sp.start)
                if not found:
                    found, role, country = self.title_right(sp.end)
                if found:
                    sp.role, sp.country = role, country or sp.country

    def run(self) -> list[_Span]:
        self.gazetteer()
        self.geo_locations()
        self.cue_orgs()
        self.generic_orgs()
        self.acronyms()
        self.possessive_countries()
        self.persons()
        self.known_person_titles()
        self.propagate_names()
        self.places_after_prepositions()
        self.compass_places()
        self.admin_places()
        self.possessive_countries()
        return self.spans


# --------------------------------------------------------------------------- spaCy backend

_MODEL_LABELS = {"PERSON": PERSON, "PER": PERSON, "ORG": ORGANIZATION, "LOC": LOCATION,
                 "FAC": LOCATION, "GPE": LOCATION, "NORP": COUNTRY}


def _add_model_spans(finder: _Finder, doc: Any) -> None:
    """Model entities that no gazetteer match overlaps, mapped to our four types."""
    gaz = finder.gaz
    for ent in doc.ents:
        label = _MODEL_LABELS.get(ent.label_)
        if ent[0].lower_ == "the" and len(ent) > 1:  # "the Pentagon": we never keep "the"
            ent = ent[1:]
        if label is None or any(finder.taken[k] for k in range(ent.start, ent.end)):
            continue
        entry = gaz.lookup(ent.text)
        if ent.label_ in ("GPE", "NORP", "LOC"):
            if entry is not None and entry.label in (COUNTRY, LOCATION):
                finder.add(_Span(ent.start, ent.end, entry.label, entry,
                                 entry.key if entry.label == COUNTRY else entry.country))
            elif ent.label_ != "NORP":
                finder.add(_Span(ent.start, ent.end, LOCATION))
            continue
        if entry is not None and entry.label == label:
            finder.add(_Span(ent.start, ent.end, label, entry, entry.country))
        else:
            finder.add(_Span(ent.start, ent.end, label))


# --------------------------------------------------------------------------- public API


def annotate(doc: Document, backend: str = DEFAULT_BACKEND) -> AnnotatedDocument:
    """Split the document into sentences and find entity mentions (unresolved)."""
    be = _get_backend(backend)
    gaz = load_gazetteer()
    text = doc.text or ""
    parsed = be.nlp(text)
    finder = _Finder(parsed, be, gaz)
    if be.use_model_ents:
        finder.gazetteer()
        _add_model_spans(finder, parsed)
        finder.acronyms()
        finder.known_person_titles()
        finder.propagate_names()
        finder.possessive_countries()
        spans = finder.spans
    else:
        spans = finder.run()

    sentences, sent_ids = _sentences(parsed, finder)
    mentions = []
    for sp in sorted(spans, key=lambda s: (s.start, s.end)):
        start = finder.idx[sp.start]
        end = finder.idx[sp.end - 1] + len(finder.words[sp.end - 1])
        surface = text[start:end]
        if is_blank(surface):
            continue
        entry = sp.entry
        mentions.append(Mention(
            doc_id=doc.doc_id, start=start, end=end, text=surface, label=sp.label,
            sentence_id=sent_ids[sp.start],
            key=entry.key if entry else (TENTATIVE_ACRONYM + surface if sp.tentative else None),
            canonical=entry.canonical if entry else None,
            country=sp.country, role=sp.role))
    return AnnotatedDocument(doc, sentences, mentions, parse=parsed)


def _sentences(parsed: Any, finder: _Finder) -> tuple[list[Sentence], list[int]]:
    """Sentences with character offsets (whitespace trimmed, blank ones dropped) and
    the sentence id of each token."""
    sentences: list[Sentence] = []
    sent_ids = [0] * finder.n
    words, idx = finder.words, finder.idx
    for s, e in finder.sent_bounds:
        toks = [k for k in range(s, e) if not words[k].isspace()]
        sid = len(sentences)
        for k in range(s, e):
            sent_ids[k] = max(sid - (0 if toks else 1), 0)
        if not toks:
            continue
        sentences.append(Sentence(sid, idx[toks[0]], idx[toks[-1]] + len(words[toks[-1]])))
    if not sentences:
        sentences.append(Sentence(0, 0, len(parsed.text)))
    return sentences, sent_ids
