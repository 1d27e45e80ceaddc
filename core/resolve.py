"""Mention -> Entity: aliases, diacritics, surname coreference, affiliation.

Every mention gets a *cluster key*, a normalised canonical string; mentions with
the same (type, key) are one entity, and the entity id is ``stable_id`` of that pair,
so ids do not depend on document order, run or machine.

* Gazetteer matches carry their key already (``TUR``, ``ORG:MIT``); other names are
  looked up in the gazetteer by :func:`core.normalize.norm_key`, which folds case,
  diacritics (Kalın = Kalin, İ/ı) and British spellings (Organisation, Defence).
* "Long Name (ACR)" ties ACR to the long name in that document, and in every other
  document where ACR is used, as long as only one long name is known for it. An
  unknown ALL-CAPS word the extractor marked as a tentative acronym is kept only when
  so tied; otherwise it is dropped.
* A person named by one word ("Kalın", "Güler") joins the full name with that
  surname in the same document (the nearest one before it, else the first after),
  else the only full name with that surname in the whole collection.
* A two-word name joins a longer one with the same first and last word when that
  is unambiguous ("Mohammed al-Sudani" -> "Mohammed Shia al-Sudani"); the particles
  al-/el- are ignored when comparing ("Bashar Assad" = "Bashar al-Assad").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from core.extract_entities import TENTATIVE_ACRONYM, load_gazetteer
from core.ids import stable_id
from core.model import COUNTRY, LOCATION, ORGANIZATION, PERSON, AnnotatedDocument, Entity, Mention
from core.normalize import fold, is_blank, norm_key, person_words


@dataclass
class _Ref:
    """A mention with its document and the key being worked out for it."""

    doc_id: str
    mention: Mention
    key: str | None = None


_person_words = person_words


def _acronym_pairs(text: str, mentions: list[Mention]) -> list[tuple[Mention, Mention]]:
    """(long name, acronym) for each 'Long Name (ACR)' in the text."""
    by_start = {m.start: m for m in mentions}
    pairs = []
    for m in mentions:
        if m.label != ORGANIZATION:
            continue
        k = m.end
        while k < len(text) and text[k] == " ":
            k += 1
        if k < len(text) and text[k] == "(":
            acr = by_start.get(k + 1)
            if acr is not None and acr.label == ORGANIZATION and text[acr.end:acr.end + 1] == ")" \
                    and acr.text.replace("&", "").isalnum() and acr.text.upper() == acr.text:
                pairs.append((m, acr))
    return pairs


def _base_key(m: Mention) -> str | None:
    """Key for a non-person mention from the gazetteer or its own normalised name."""
    if m.key and m.key.startswith(TENTATIVE_ACRONYM):
        return None  # decided once every document's acronyms are known
    if m.key:
        return m.key
    gaz = load_gazetteer()
    entry = gaz.lookup(m.text)
    if entry is not None and entry.label == m.label:
        return entry.key
    norm = norm_key(m.text)
    if not norm:
        return None
    prefix = {ORGANIZATION: "ORG", LOCATION: "LOC", COUNTRY: "CTRY"}.get(m.label, m.label)
    return f"{prefix}::{norm}"


def _resolve_orgs_and_places(docs: list[AnnotatedDocument], refs: dict[int, _Ref]) -> None:
    acr_global: dict[str, set[str]] = defaultdict(set)
    doc_acr: dict[str, dict[str, str]] = {}
    for ad in docs:
        local: dict[str, str] = {}
        for m in ad.mentions:
            if m.label != PERSON:
                refs[id(m)].key = _base_key(m)
        for long, acr in _acronym_pairs(ad.document.text, ad.mentions):
            long_ref, acr_ref = refs[id(long)], refs[id(acr)]
            # A known acronym names the body even when the long form is unknown.
            key = long_ref.key
            if (key is None or key.startswith("ORG::")) and acr.key:
                key = acr.key
            if key is None:
                continue
            long_ref.key = acr_ref.key = key
            local[acr.text] = key
            acr_global[acr.text].add(key)
        doc_acr[ad.document.doc_id] = local
    for ad in docs:
        local = doc_acr[ad.document.doc_id]
        for m in ad.mentions:
            if m.label != ORGANIZATION or (m.key and not m.key.startswith(TENTATIVE_ACRONYM)):
                continue
            ref = refs[id(m)]
            if m.text in local:
                ref.key = local[m.text]
            elif len(acr_global.get(m.text, ())) == 1:
                ref.key = next(iter(acr_global[m.text]))


def _resolve_persons(docs: list[AnnotatedDocument], refs: dict[int, _Ref]) -> None:
    full_by_surname: dict[str, set[str]] = defaultdict(set)
    pending: list[_Ref] = []
    for ad in docs:
        persons = [m for m in ad.mentions if m.label == PERSON]
        fulls = []  # (start, key, surname)
        for m in persons:
            words = _person_words(m.text)
            if m.key:  # gazetteer person: its key is person_key(canonical name)
                refs[id(m)].key = m.key
                words = m.key[4:].split()
                fulls.append((m.start, m.key, words[-1]))
                full_by_surname[words[-1]].add(m.key)
            elif len(words) >= 2:
                key = "PER:" + " ".join(words)
                refs[id(m)].key = key
                fulls.append((m.start, key, words[-1]))
                full_by_surname[words[-1]].add(key)
        for m in persons:
            words = _person_words(m.text)
            if len(words) != 1 or m.key:
                continue
            same = [f for f in fulls if f[2] == words[0]]
            before = [f for f in same if f[0] < m.start]
            if before:
                refs[id(m)].key = before[-1][1]
            elif same:
                refs[id(m)].key = same[0][1]
            else:
                pending.append(refs[id(m)])
    # Two-word names join a unique longer name with the same first and last word.
    all_full = sorted({k for keys in full_by_surname.values() for k in keys})
    short_to_long: dict[str, set[str]] = defaultdict(set)
    for key in all_full:
        words = key[4:].split()
        if len(words) >= 3:
            short_to_long[f"PER:{words[0]} {words[-1]}"].add(key)
    for ref in refs.values():
        if ref.mention.label == PERSON and ref.key in short_to_long and \
                len(short_to_long[ref.key]) == 1:
            ref.key = next(iter(short_to_long[ref.key]))
    for ref in pending:
        words = _person_words(ref.mention.text)
        if not words:
            continue
        candidates = {k for k in full_by_surname.get(words[0], set())}
        candidates = {next(iter(short_to_long[k])) if len(short_to_long.get(k, ())) == 1 else k
                      for k in candidates}
        ref.key = next(iter(candidates)) if len(candidates) == 1 else f"PER:{words[0]}"


def _pick_name(surfaces: Counter[str]) -> str:
    """The most complete surface form, keeping diacritics (Kalın over Kalin)."""
    def score(s: str) -> tuple:
        return (-len(s.split()), s.isupper(), fold(s) == s, -surfaces[s], -len(s), s)

    return min(surfaces, key=score)


def _majority(values: list[str | None]) -> str | None:
    counts = Counter(v for v in values if v)
    if not counts:
        return None
    return min(counts, key=lambda v: (-counts[v], v))


def resolve(docs: list[AnnotatedDocument]) -> list[Entity]:
    """Group the mentions of all documents into entities.

    Sets ``mention_id`` and ``entity_id`` on every mention in place and returns the
    entities (with aliases, roles and counts). Ids are stable hashes of content.
    Mentions that cannot be resolved (blank text) are dropped from their document.
    """
    gaz = load_gazetteer()
    ordered = sorted(docs, key=lambda d: d.document.doc_id)
    for ad in ordered:
        ad.mentions = sorted((m for m in ad.mentions if not is_blank(m.text)),
                             key=lambda m: (m.start, m.end, m.label))
    refs = {id(m): _Ref(ad.document.doc_id, m) for ad in ordered for m in ad.mentions}
    _resolve_orgs_and_places(ordered, refs)
    _resolve_persons(ordered, refs)

    groups: dict[tuple[str, str], list[_Ref]] = defaultdict(list)
    for ad in ordered:
        kept = []
        for m in ad.mentions:
            ref = refs[id(m)]
            if not ref.key:
                continue
            m.entity_id = stable_id(m.label, ref.key, prefix="E")
            m.mention_id = stable_id(ad.document.doc_id, m.start, m.end, m.label, prefix="M")
            groups[(m.label, ref.key)].append(ref)
            kept.append(m)
        ad.mentions = kept

    entities = []
    for (label, key), members in sorted(groups.items()):
        mentions = [r.mention for r in members]
        surfaces = Counter(m.text.strip() for m in mentions)
        entry = gaz.by_key.get(key)
        name = entry.canonical if entry is not None else _pick_name(surfaces)
        if is_blank(name):
            continue
        if label == COUNTRY:
            country = entry.key if entry is not None else None
        else:
            country = _majority([m.country for m in mentions]) or (
                entry.country if entry is not None else None)
        roles: list[str] = []
        for m in mentions:
            if m.role and not is_blank(m.role) and m.role not in roles:
                roles.append(m.role)
        entities.append(Entity(
            entity_id=mentions[0].entity_id or "",
            name=name,
            type=label,
            country=country,
            aliases=sorted(s for s in surfaces if s != name and not is_blank(s)),
            roles=roles,
            n_mentions=len(mentions),
            n_documents=len({r.doc_id for r in members}),
        ))
    return entities
