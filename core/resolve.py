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

Resolution runs in two steps so that a rebuild redoes only what changed:
:func:`resolve_local` decides what one document can decide alone (and is cached with
the document's annotation); :func:`final_keys` settles what needs the collection (the
acronym table, the surname index, longer person names) over distinct keys only, and
:func:`entities_from` tallies the entities. :func:`resolve` chains the three.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import schemas
from core.extract_entities import TENTATIVE_ACRONYM, load_gazetteer
from core.ids import stable_id
from core.model import COUNTRY, LOCATION, ORGANIZATION, PERSON, AnnotatedDocument, Entity, Mention
from core.normalize import fold, is_blank, norm_key, person_words

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


# What resolution leaves to the collection, per mention: nothing (the key is final but
# for the person-name joins), the document-wide acronym table, or the surname index.
DEFER_ACRONYM = "acr"
DEFER_SURNAME = "sur"


@dataclass(slots=True)
class LocalResolution:
    """What one document decides about its own mentions, and what it tells the others.

    ``keys``, ``defer`` and ``args`` run parallel to the document's mentions (sorted
    and without blanks). A deferred mention is settled by :func:`final_keys` once every
    document's ``acronyms`` (acronym text, key) and ``fulls`` (surname, full person key)
    are known.
    """

    keys: list[str | None]
    defer: list[str | None]
    args: list[str | None]
    acronyms: list[tuple[str, str]]
    fulls: list[tuple[str, str]]


def resolve_local(ad: AnnotatedDocument) -> LocalResolution:
    """The document-local part of resolution; sorts the mentions and sets their mention_id.

    It depends on this document alone, so the pipeline computes it with the annotation
    and keeps it in the per-document cache.
    """
    doc_id = ad.document.doc_id
    ad.mentions = sorted((m for m in ad.mentions if not is_blank(m.text)),
                         key=lambda m: (m.start, m.end, m.label))
    for m in ad.mentions:
        m.mention_id = stable_id(doc_id, m.start, m.end, m.label, prefix="M")
    n = len(ad.mentions)
    res = LocalResolution([None] * n, [None] * n, [None] * n, [], [])
    index = {id(m): i for i, m in enumerate(ad.mentions)}
    _local_orgs_and_places(ad, index, res)
    _local_persons(ad, index, res)
    return res


def _local_orgs_and_places(ad: AnnotatedDocument, index: dict[int, int],
                           res: LocalResolution) -> None:
    local: dict[str, str] = {}
    for i, m in enumerate(ad.mentions):
        if m.label != PERSON:
            res.keys[i] = _base_key(m)
    for long, acr in _acronym_pairs(ad.document.text, ad.mentions):
        li, ai = index[id(long)], index[id(acr)]
        # A known acronym names the body even when the long form is unknown.
        key = res.keys[li]
        if (key is None or key.startswith("ORG::")) and acr.key:
            key = acr.key
        if key is None:
            continue
        res.keys[li] = res.keys[ai] = key
        local[acr.text] = key
        res.acronyms.append((acr.text, key))
    for i, m in enumerate(ad.mentions):
        if m.label != ORGANIZATION or (m.key and not m.key.startswith(TENTATIVE_ACRONYM)):
            continue
        if m.text in local:
            res.keys[i] = local[m.text]
        else:  # an acronym another document defines, if exactly one does
            res.defer[i], res.args[i] = DEFER_ACRONYM, m.text


def _local_persons(ad: AnnotatedDocument, index: dict[int, int], res: LocalResolution) -> None:
    persons = [m for m in ad.mentions if m.label == PERSON]
    fulls = []  # (start, key, surname)
    for m in persons:
        words = _person_words(m.text)
        i = index[id(m)]
        if m.key:  # gazetteer person: its key is person_key(canonical name)
            res.keys[i] = m.key
            words = m.key[4:].split()
            fulls.append((m.start, m.key, words[-1]))
        elif len(words) >= 2:
            res.keys[i] = "PER:" + " ".join(words)
            fulls.append((m.start, res.keys[i], words[-1]))
    res.fulls.extend((surname, key) for _, key, surname in fulls)
    for m in persons:
        words = _person_words(m.text)
        if len(words) != 1 or m.key:
            continue
        i = index[id(m)]
        same = [f for f in fulls if f[2] == words[0]]
        before = [f for f in same if f[0] < m.start]
        if before:
            res.keys[i] = before[-1][1]
        elif same:
            res.keys[i] = same[0][1]
        else:  # the only full name with this surname in the whole collection, if any
            res.defer[i], res.args[i] = DEFER_SURNAME, words[0]


class CollectionIndex:
    """The collection-wide step: what every document's acronyms and full names settle.

    * a deferred acronym takes the key of the only long name any document gives it,
      else keeps its own (None for a tentative acronym: dropped);
    * a two-word person name joins a unique longer name with the same first and last
      word ("Mohammed al-Sudani" -> "Mohammed Shia al-Sudani");
    * a lone surname takes the only full name with that surname, else stays a surname.
    """

    def __init__(self, acronyms: Iterable[tuple[str, str]],
                 fulls: Iterable[tuple[str, str]]) -> None:
        self.acronyms: dict[str, set[str]] = defaultdict(set)
        for text, key in acronyms:
            self.acronyms[text].add(key)
        self.by_surname: dict[str, set[str]] = defaultdict(set)
        for surname, key in fulls:
            self.by_surname[surname].add(key)
        short_to_long: dict[str, set[str]] = defaultdict(set)
        for key in {k for keys in self.by_surname.values() for k in keys}:
            words = key[4:].split()
            if len(words) >= 3:
                short_to_long[f"PER:{words[0]} {words[-1]}"].add(key)
        self.longer = {short: next(iter(longs)) for short, longs in short_to_long.items()
                       if len(longs) == 1}

    def final(self, label: str, key: str | None, defer: str | None,
              arg: str | None) -> str | None:
        if defer == DEFER_ACRONYM:
            keys = self.acronyms.get(arg or "", ())
            return next(iter(keys)) if len(keys) == 1 else key
        if defer == DEFER_SURNAME:
            candidates = {self.longer.get(k, k) for k in self.by_surname.get(arg or "", ())}
            return next(iter(candidates)) if len(candidates) == 1 else f"PER:{arg}"
        if label == PERSON and key is not None:
            return self.longer.get(key, key)
        return key


def entity_id_of(label: str, key: str) -> str:
    return stable_id(label, key, prefix="E")


def _pick_name(surfaces: Counter[str]) -> str:
    """The most complete surface form, keeping diacritics (Kalın over Kalin)."""
    def score(s: str) -> tuple:
        return (-len(s.split()), s.isupper(), fold(s) == s, -surfaces[s], -len(s), s)

    return min(surfaces, key=score)


def _majority(counts: Counter[str]) -> str | None:
    if not counts:
        return None
    return min(counts, key=lambda v: (-counts[v], v))


# The columns of a resolution table: one row per mention, in (doc_id, pos) order
# within each document. ``pos`` is the mention's place in its sorted document.
TABLE_COLUMNS = ("doc_id", "pos", "label", "key", "defer", "arg", "text", "country", "role")


def _opt(value: object) -> str | None:
    return value if isinstance(value, str) else None


def resolve_table(
    table: pd.DataFrame,
    acronyms: Iterable[tuple[str, str]],
    fulls: Iterable[tuple[str, str]],
) -> tuple[pd.Series, list[Entity]]:
    """Resolve every mention of a table (TABLE_COLUMNS) against the whole collection.

    Returns each row's entity_id (missing for a mention that resolves to nothing) and
    the entities, sorted by (type, key). Column-wise: only deferred mentions and
    distinct keys are looked at one by one.
    """
    index = CollectionIndex(acronyms, fulls)
    final = table["key"].copy()
    person = (table["label"] == PERSON) & table["defer"].isna() & final.notna()
    if index.longer and person.any():
        longer = schemas.map_values(final[person], index.longer)
        joins = ~pd.isna(longer)  # the few two-word names that join a longer one
        final[final.index[person.to_numpy()][joins]] = longer[joins]
    deferred = table["defer"].notna()
    if deferred.any():
        sub = table.loc[deferred, ["label", "key", "defer", "arg"]]
        final[deferred] = [index.final(lab, _opt(k), d, _opt(a)) for lab, k, d, a in
                           sub.itertuples(index=False)]
    kept = final.notna()
    label_key = (table["label"] + "\x1f" + final).astype("str")  # missing where dropped
    pairs = {tuple(lk.split("\x1f", 1)) for lk in label_key[kept].unique()}
    ids = {f"{lab}\x1f{k}": entity_id_of(lab, k) for lab, k in pairs}
    entity_ids = pd.Series(schemas.map_values(label_key, ids), index=table.index, dtype="str")
    rows = schemas.rows_where(table, kept, ["doc_id", "pos", "text", "country", "role"]).assign(
        entity_id=entity_ids[kept])
    return entity_ids, _entities(rows, sorted(pairs))


def _pair_counts(ent: np.ndarray, ent_ids: pd.Index, values: pd.Series
                 ) -> dict[str, Counter[str]]:
    """Per entity, how many of its rows have each (non-missing) value."""
    code, uniques = pd.factorize(values)
    keep = code >= 0
    pair, counts = np.unique(ent[keep].astype(np.int64) * len(uniques) + code[keep],
                             return_counts=True)
    names, ids = list(uniques), list(ent_ids)
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for p, n in zip(pair.tolist(), counts.tolist(), strict=True):
        out[ids[p // len(names)]][names[p % len(names)]] = n
    return out


def _entities(rows: pd.DataFrame, pairs: list[tuple[str, str]]) -> list[Entity]:
    """Tally the entities of resolved rows (entity_id, doc_id, pos, text, country, role)."""
    gaz = load_gazetteer()
    # Counted on integer codes: each column is factorised once.
    ent, ent_ids = pd.factorize(rows["entity_id"])
    n_ent = len(ent_ids)
    n_mentions = dict(zip(ent_ids, np.bincount(ent, minlength=n_ent).tolist(), strict=True))
    doc, doc_ids = pd.factorize(rows["doc_id"])
    per_doc = np.unique(ent.astype(np.int64) * len(doc_ids) + doc) // max(len(doc_ids), 1)
    n_documents = dict(zip(ent_ids, np.bincount(per_doc, minlength=n_ent).tolist(),
                           strict=True))
    surfaces = _pair_counts(ent, ent_ids, rows["text"].str.strip())
    countries = _pair_counts(ent, ent_ids, rows["country"])
    roles: dict[str, list[str]] = defaultdict(list)
    # Roles in the order the documents (by id) and their mentions give them: the first
    # row of each (entity, role, document) is its earliest; then sort those few rows.
    named = rows[rows["role"].notna()].drop_duplicates(["entity_id", "role", "doc_id"])
    doc_rank = pd.factorize(named["doc_id"], sort=True)[0]
    named = named.iloc[np.lexsort((named["pos"].to_numpy(), doc_rank))]
    named = named.drop_duplicates(["entity_id", "role"])
    for eid, role in zip(named["entity_id"], named["role"], strict=True):
        if role not in roles[eid] and not is_blank(role):
            roles[eid].append(role)
    entities = []
    for label, key in pairs:
        eid = entity_id_of(label, key)
        entry = gaz.by_key.get(key)
        name = entry.canonical if entry is not None else _pick_name(surfaces[eid])
        if is_blank(name):
            continue
        if label == COUNTRY:
            country = entry.key if entry is not None else None
        else:
            country = _majority(countries[eid]) or (
                entry.country if entry is not None else None)
        entities.append(Entity(
            entity_id=eid,
            name=name,
            type=label,
            country=country,
            aliases=sorted(s for s in surfaces[eid] if s != name and not is_blank(s)),
            roles=roles[eid],
            n_mentions=int(n_mentions[eid]),
            n_documents=int(n_documents[eid]),
        ))
    return entities


def table_rows(doc_id: str, mentions: list[Mention], local: LocalResolution) -> dict[str, list]:
    """The resolution-table columns (TABLE_COLUMNS) of one document's mentions."""
    return {
        "doc_id": [doc_id] * len(mentions),
        "pos": list(range(len(mentions))),
        "label": [m.label for m in mentions],
        "key": local.keys,
        "defer": local.defer,
        "arg": local.args,
        "text": [m.text for m in mentions],
        "country": [m.country for m in mentions],
        "role": [m.role for m in mentions],
    }


def resolve(docs: list[AnnotatedDocument]) -> list[Entity]:
    """Group the mentions of all documents into entities.

    Sets ``mention_id`` and ``entity_id`` on every mention in place and returns the
    entities (with aliases, roles and counts). Ids are stable hashes of content.
    Mentions that cannot be resolved (blank text, an acronym nobody defines) are
    dropped from their document.
    """
    locals_ = [resolve_local(ad) for ad in docs]
    parts = [table_rows(ad.document.doc_id, ad.mentions, r) for ad, r in zip(docs, locals_,
                                                                            strict=True)]
    table = pd.DataFrame({c: [v for p in parts for v in p[c]] for c in TABLE_COLUMNS},
                         dtype=object)
    entity_ids, entities = resolve_table(
        table, [a for r in locals_ for a in r.acronyms], [f for r in locals_ for f in r.fulls])
    ids = iter(entity_ids)
    for ad in docs:
        kept = []
        for m in ad.mentions:
            eid = next(ids)
            m.entity_id = eid if isinstance(eid, str) else None
            if m.entity_id:
                kept.append(m)
        ad.mentions = kept
    return entities
