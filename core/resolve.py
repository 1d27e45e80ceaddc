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


def final_keys(table: pd.DataFrame, index: CollectionIndex) -> pd.Series:
    """Each row's cluster key once the collection is known (missing: resolves to nothing).

    Column-wise: only deferred mentions are looked at one by one.
    """
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
    return final


SEP = "\x1f"  # between label and key in a "label\x1fkey" string


def entity_ids(table: pd.DataFrame, final: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each row's entity_id and "label\x1fkey" (both missing where ``final`` is)."""
    label_key = table["label"].astype("str") + SEP + final.astype("str")
    uniques = label_key.dropna().unique()
    ids = {lk: entity_id_of(*lk.split(SEP, 1)) for lk in uniques}
    return pd.Series(schemas.map_values(label_key, ids), index=table.index, dtype="str"), label_key


def resolve_table(
    table: pd.DataFrame,
    acronyms: Iterable[tuple[str, str]],
    fulls: Iterable[tuple[str, str]],
) -> tuple[pd.Series, list[Entity]]:
    """Resolve every mention of a table (TABLE_COLUMNS) against the whole collection.

    Returns each row's entity_id (missing for a mention that resolves to nothing) and
    the entities, sorted by (type, key).
    """
    ids, tallies = resolve_rows(table, CollectionIndex(acronyms, fulls))
    return ids, entities_from(*tallies)


def resolve_rows(table: pd.DataFrame, index: CollectionIndex
                 ) -> tuple[pd.Series, tuple[pd.DataFrame, pd.DataFrame]]:
    """Each row's entity_id against the collection ``index``, and the entity tallies."""
    ids, label_key = entity_ids(table, final_keys(table, index))
    return ids, tally(table.assign(entity_id=ids, label_key=label_key))


def changed_lookups(old: CollectionIndex, new: CollectionIndex
                    ) -> tuple[set[str], set[str], set[str]]:
    """What the collection settles differently in ``new`` than in ``old``: the acronym
    texts, surnames and two-word person keys whose resolution may differ."""
    acr = {t for t in old.acronyms.keys() | new.acronyms.keys()
           if old.acronyms.get(t) != new.acronyms.get(t)}
    longer = {k for k in old.longer.keys() | new.longer.keys()
              if old.longer.get(k) != new.longer.get(k)}
    sur = {s for s in old.by_surname.keys() | new.by_surname.keys()
           if old.by_surname.get(s) != new.by_surname.get(s)
           or any(k in longer for k in old.by_surname.get(s, set()) | new.by_surname.get(s, set()))}
    return acr, sur, longer


def affected_rows(table: pd.DataFrame, old: CollectionIndex, new: CollectionIndex) -> np.ndarray:
    """Rows whose final key may differ under ``new`` from what ``old`` gave."""
    acr, sur, longer = changed_lookups(old, new)
    defer, arg = table["defer"], table["arg"]
    out = np.zeros(len(table), dtype=bool)
    if acr:
        out |= ((defer == DEFER_ACRONYM) & arg.isin(acr)).to_numpy()
    if sur:
        out |= ((defer == DEFER_SURNAME) & arg.isin(sur)).to_numpy()
    if longer:
        out |= ((table["label"] == PERSON) & defer.isna() & table["key"].isin(longer)).to_numpy()
    return out


# An entity's tallies (core.resolve.tally): additive over documents, so that a rebuild
# can take out those of the documents that changed and put in their new ones.
COUNT_COLUMNS = ("entity_id", "kind", "value", "n")
ROLE_COLUMNS = ("entity_id", "role", "doc_id", "pos")
KEY, DOCS, SURFACE, COUNTRY_OF = "key", "docs", "surface", "country"


def tally(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(counts, roles) of resolved rows (entity_id, label_key, doc_id, pos, text,
    country, role; rows without an entity_id are left out).

    ``counts`` has a row per entity and kind: KEY (value "label\x1fkey", n mentions),
    DOCS (n documents), SURFACE and COUNTRY_OF (n mentions with that value); ``roles``
    the first place (doc_id, pos) each document gives each of an entity's roles.
    """
    rows = rows[rows["entity_id"].notna()]
    # Counted on integer codes: each column is factorised once.
    ent, ent_ids = pd.factorize(rows["entity_id"])
    ent = ent.astype(np.int64)
    n_ent = len(ent_ids)
    parts = []
    first = pd.Series(np.arange(len(ent)), index=ent).groupby(level=0).first().to_numpy()
    parts.append((ent_ids, KEY, rows["label_key"].to_numpy(dtype=object)[first],
                  np.bincount(ent, minlength=n_ent)))
    doc, doc_ids = pd.factorize(rows["doc_id"])
    per_doc = pd.unique(ent * max(len(doc_ids), 1) + doc) // max(len(doc_ids), 1)
    parts.append((ent_ids, DOCS, "", np.bincount(per_doc, minlength=n_ent)))
    for kind, values in ((SURFACE, rows["text"].str.strip()), (COUNTRY_OF, rows["country"])):
        code, uniques = pd.factorize(values)
        keep = code >= 0
        pair, n = np.unique(ent[keep] * len(uniques) + code[keep], return_counts=True)
        parts.append((ent_ids[pair // max(len(uniques), 1)], kind,
                      np.asarray(uniques, dtype=object)[pair % max(len(uniques), 1)], n))
    counts = pd.concat([pd.DataFrame({"entity_id": np.asarray(e, dtype=object), "kind": k,
                                      "value": v, "n": np.asarray(n, dtype=np.int64)})
                        for e, k, v, n in parts], ignore_index=True)
    named = rows.loc[rows["role"].notna(), ["entity_id", "role", "doc_id", "pos"]]
    roles = named.drop_duplicates(["entity_id", "role", "doc_id"])  # rows are in pos order
    return counts, roles.reset_index(drop=True)


def add_tallies(counts: pd.DataFrame, minus: pd.DataFrame, plus: pd.DataFrame) -> pd.DataFrame:
    """counts - minus + plus (each a counts frame of tally), without the zeros."""
    both = pd.concat([counts, minus.assign(n=-minus["n"]), plus], ignore_index=True)
    summed = both.groupby(["entity_id", "kind", "value"], sort=False)["n"].sum().reset_index()
    return summed[summed["n"] != 0].reset_index(drop=True)


def entities_from(counts: pd.DataFrame, roles: pd.DataFrame) -> list[Entity]:
    """The entities the tallies describe, sorted by (type, key)."""
    gaz = load_gazetteer()
    by: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for eid, kind, value, n in counts.itertuples(index=False):
        by[kind][eid][value] += n
    order: dict[str, list[str]] = defaultdict(list)
    # Roles in the order the documents (by id) and their mentions first give them: the
    # first place of each (entity, role), as a number (document rank, then position).
    if len(roles):
        pos = roles["pos"].to_numpy(dtype=np.int64)
        place = pd.factorize(roles["doc_id"], sort=True)[0].astype(np.int64) * (
            int(pos.max()) + 1) + pos
        first = pd.DataFrame({"e": roles["entity_id"], "r": roles["role"], "p": place}
                             ).groupby(["e", "r"], sort=False)["p"].min()
        for eid, role in first.sort_values(kind="stable").index:
            if not is_blank(role):
                order[eid].append(role)
    entities = []
    keys = sorted((tuple(lk.split(SEP, 1)), eid) for eid, c in by[KEY].items() for lk in c)
    for (label, key), eid in keys:
        entry = gaz.by_key.get(key)
        surfaces = by[SURFACE][eid]
        name = entry.canonical if entry is not None else _pick_name(surfaces)
        if is_blank(name):
            continue
        if label == COUNTRY:
            country = entry.key if entry is not None else None
        else:
            country = _majority(by[COUNTRY_OF][eid]) or (
                entry.country if entry is not None else None)
        entities.append(Entity(
            entity_id=eid,
            name=name,
            type=label,
            country=country,
            aliases=sorted(s for s in surfaces if s != name and not is_blank(s)),
            roles=order[eid],
            n_mentions=int(by[KEY][eid][f"{label}{SEP}{key}"]),
            n_documents=int(by[DOCS][eid][""]),
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
