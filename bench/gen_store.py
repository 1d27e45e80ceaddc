"""A synthetic but realistic Dyad dataset, for dashboard tests and benchmarks.

Persons, organisations and countries act on each other with PLOVER event types
over a year of dates; every frame passes core.schemas.validate, every offset
points at the right text, and the same arguments always give the same dataset.

    python bench/gen_store.py --events 100000 --out /tmp/store100k
    python bench/gen_store.py --events 1000000 --fast --out /tmp/store1m   # numpy, < 1 min

The ``--fast`` generator (generate_fast) builds the same kind of data column by
column with numpy, for the million-event benchmarks.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from core import (  # noqa: E402
    Dataset,
    save_dataset,
    schemas,  # noqa: E402
)
from core.ids import stable_id  # noqa: E402
from core.schemas import DOC, EDGE, ENT, EV, MEN  # noqa: E402

# (ISO3, name) of the countries that act and host events.
COUNTRIES = [
    ("TUR", "Türkiye"), ("IRN", "Iran"), ("IRQ", "Iraq"), ("SYR", "Syria"), ("ISR", "Israel"),
    ("USA", "United States"), ("RUS", "Russia"), ("UKR", "Ukraine"), ("CHN", "China"),
    ("IND", "India"), ("QAT", "Qatar"), ("EGY", "Egypt"), ("SAU", "Saudi Arabia"),
    ("DEU", "Germany"), ("FRA", "France"), ("GBR", "United Kingdom"), ("JOR", "Jordan"),
    ("LBN", "Lebanon"), ("AZE", "Azerbaijan"), ("ARM", "Armenia"), ("GRC", "Greece"),
    ("PAK", "Pakistan"), ("AFG", "Afghanistan"), ("JPN", "Japan"), ("BRA", "Brazil"),
    ("NGA", "Nigeria"), ("ETH", "Ethiopia"), ("SDN", "Sudan"), ("LBY", "Libya"),
    ("YEM", "Yemen"),
]
CAPITALS = {
    "TUR": "Ankara", "IRN": "Tehran", "IRQ": "Baghdad", "SYR": "Damascus", "ISR": "Jerusalem",
    "USA": "Washington", "RUS": "Moscow", "UKR": "Kyiv", "CHN": "Beijing", "QAT": "Doha",
    "EGY": "Cairo", "SAU": "Riyadh", "DEU": "Berlin", "FRA": "Paris", "GBR": "London",
}
ORGS = [
    ("National Intelligence Organization", "MIT", "TUR"), ("Anadolu Agency", "AA", "TUR"),
    ("Supreme National Security Council", "SNSC", "IRN"), ("PKK", "PKK", None),
    ("Hamas", "Hamas", None), ("United Nations", "UN", None), ("NATO", "NATO", None),
    ("European Union", "EU", None), ("Iraqi Turkmen Front", "ITC", "IRQ"),
    ("Hezbollah", "Hezbollah", "LBN"), ("Red Crescent", "Red Crescent", None),
    ("Ministry of National Defense", "MSB", "TUR"), ("Daesh", "Daesh", None),
    ("World Health Organization", "WHO", None), ("African Union", "AU", None),
]
FIRST = ["Ahmet", "Mehmet", "Ali", "Hassan", "Fatima", "Elena", "John", "Maria", "Sergei",
         "Yusuf", "Omar", "Leila", "Hamid", "Abbas", "Olga", "Chen", "Priya", "Thabit"]
LAST = ["Yilmaz", "Demir", "Rahimi", "Hosseini", "Petrov", "Smith", "Garcia", "Khan",
        "Haddad", "Nasser", "Ivanova", "Wei", "Sharma", "Abbasi", "Kaya", "Aziz", "Okafor"]
# PLOVER type -> (trigger verb, modes it may carry).
PLOVER = {
    "CONSULT": ("met with", ["visit", "third-party", "phone", None]),
    "AGREE": ("agreed with", ["settle", None]),
    "SUPPORT": ("backed", [None]),
    "COOPERATE": ("cooperated with", ["intelligence", "military", None]),
    "AID": ("sent aid to", ["humanitarian", "economic"]),
    "DEMAND": ("demanded from", [None]),
    "ACCUSE": ("accused", ["allege", None]),
    "REJECT": ("rejected", [None]),
    "THREATEN": ("threatened", ["military", None]),
    "PROTEST": ("protested against", ["demonstrate", None]),
    "SANCTION": ("sanctioned", ["economic", None]),
    "MOBILIZE": ("mobilised against", ["troops", None]),
    "COERCE": ("detained members of", ["arrest", None]),
    "ASSAULT": ("attacked", ["firearms", "aerial", None]),
}
TOPICS = ["terrorism", "border_security", "nuclear", "gaza", "syria_war", "trade", "energy",
          "migration", "humanitarian", "diplomacy"]
KALIN = ("Ibrahim Kalın", ["Kalın", "Ibrahim Kalin", "Kalin"], "TUR")
HOSTILE = ("<img src=x onerror=alert(1)> & </script>\"Corp'", "TUR")


def _entity(name: str, etype: str, country: str | None, aliases: list[str]) -> dict[str, Any]:
    return {
        ENT.entity_id: stable_id(etype, name, prefix="e_"),
        ENT.name: name, ENT.type: etype, ENT.country: country,
        ENT.aliases: aliases, ENT.roles: [], ENT.n_mentions: 0, ENT.n_documents: 0,
    }


def _entities(rng: random.Random, n_persons: int, hostile: bool) -> list[dict[str, Any]]:
    ents = [_entity(KALIN[0], "PERSON", KALIN[2], KALIN[1])]
    seen = {KALIN[0]}
    while len(ents) < n_persons:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if len(seen) >= len(FIRST) * len(LAST):
            name = f"{name} {len(ents)}"  # past the name pool, numbered names keep ids unique
        if name in seen:
            continue
        seen.add(name)
        ents.append(_entity(name, "PERSON", rng.choice(COUNTRIES)[0], [name.split()[-1]]))
    ents += [_entity(n, "ORGANIZATION", c, [a] if a != n else []) for n, a, c in ORGS]
    ents += [_entity(n, "COUNTRY", iso, []) for iso, n in COUNTRIES]
    if hostile:
        ents.append(_entity(HOSTILE[0], "ORGANIZATION", HOSTILE[1], ["=HYPERLINK(\"x\")"]))
    return ents


def generate_dataset(
    n_events: int = 1000, seed: int = 7, n_persons: int | None = None, hostile: bool = False,
    events_per_doc: int = 5,
) -> Dataset:
    """A valid Dataset with about ``n_events`` events (one per sentence)."""
    rng = random.Random(seed)
    ents = _entities(rng, n_persons or max(40, min(2000, n_events // 50)), hostile)
    actors = [e for e in ents if e[ENT.type] != "COUNTRY"]
    # A skewed choice gives a few prominent actors, as in real news.
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(actors))]
    start = date(2025, 1, 1)
    docs: list[dict[str, Any]] = []
    mentions: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    doc_index = 0
    while len(events) < n_events:
        k = min(events_per_doc, n_events - len(events))
        published = start + timedelta(days=rng.randrange(365))
        doc_id = stable_id("doc", seed, doc_index, prefix="d_")
        sentences, spans = [], []
        offset = 0
        for s in range(k):
            actor = rng.choices(actors, weights)[0]
            target = rng.choice(ents)
            while target is actor:
                target = rng.choice(ents)
            etype = rng.choice(list(PLOVER))
            verb, modes = PLOVER[etype]
            iso = rng.choice(COUNTRIES)[0]
            place = CAPITALS.get(iso, dict(COUNTRIES)[iso])
            head = f"{actor[ENT.name]} "
            sentence = f"{head}{verb} {target[ENT.name]} in {place} on {published:%B %d}."
            spans.append((offset, s, actor, target, etype, rng.choice(modes), iso, place,
                          len(head), verb, sentence))
            sentences.append(sentence)
            offset += len(sentence) + 1
        text = " ".join(sentences)
        docs.append({
            DOC.doc_id: doc_id, DOC.source: f"synthetic/{doc_index:06d}.txt",
            DOC.sources: [f"synthetic/{doc_index:06d}.txt"],
            DOC.title: f"{spans[0][2][ENT.name]} {spans[0][9]} {spans[0][3][ENT.name]}",
            DOC.published: published, DOC.url: None, DOC.format: "txt", DOC.text: text,
            DOC.n_words: len(text.split()),
            DOC.topics: [],
        })
        for off, sid, actor, target, etype, mode, iso, place, head_len, verb, sentence in spans:
            t_start = off + head_len
            target_start = t_start + len(verb) + 1
            for ent, m_start, role in ((actor, off, "actor"), (target, target_start, "target")):
                mentions.append({
                    MEN.mention_id: stable_id(doc_id, m_start, prefix="m_"),
                    MEN.doc_id: doc_id, MEN.entity_id: ent[ENT.entity_id],
                    MEN.text: ent[ENT.name], MEN.label: ent[ENT.type],
                    MEN.start: m_start, MEN.end: m_start + len(ent[ENT.name]),
                    MEN.sentence_id: sid, MEN.role: role,
                })
            events.append({
                EV.event_id: stable_id(doc_id, sid, etype, prefix="ev_"), EV.doc_id: doc_id,
                EV.sentence_id: sid, EV.date: published if rng.random() > 0.03 else None,
                EV.date_precision: "day", EV.type: etype, EV.mode: mode,
                EV.actor_id: actor[ENT.entity_id], EV.target_id: target[ENT.entity_id],
                EV.location: iso, EV.place: place,
                EV.topics: sorted(rng.sample(TOPICS, rng.randint(0, 2))),
                EV.evidence: sentence, EV.evidence_start: off,
                EV.evidence_end: off + len(sentence), EV.trigger: verb,
                EV.trigger_start: t_start, EV.trigger_end: t_start + len(verb),
                EV.confidence: round(rng.uniform(0.5, 1.0), 3),
                EV.cluster_id: stable_id(doc_id, sid, prefix="c_"),
            })
        doc_index += 1
    for ev in events:
        if ev[EV.date] is None:
            ev[EV.date_precision] = "unknown"
    _count_mentions(ents, mentions)
    ds = Dataset(
        documents=schemas.to_frame("documents", docs),
        mentions=schemas.to_frame("mentions", mentions),
        entities=schemas.to_frame("entities", ents),
        events=schemas.to_frame("events", events),
        edges=schemas.to_frame("edges", _edges(events)),
        errors=[{"file": "synthetic/broken.pdf", "reason": "unsupported file type .pdf",
                 "kind": "IngestError"}],
    )
    ds.manifest = {"version": "synthetic", "sources": [], "counts": ds.counts(),
                   "errors": ds.errors, "timings": {}, "built_at": "2025-12-31T00:00:00+00:00"}
    return ds


def _count_mentions(ents: list[dict[str, Any]], mentions: list[dict[str, Any]]) -> None:
    n_men: dict[str, int] = defaultdict(int)
    n_doc: dict[str, set[str]] = defaultdict(set)
    for m in mentions:
        n_men[m[MEN.entity_id]] += 1
        n_doc[m[MEN.entity_id]].add(m[MEN.doc_id])
    for e in ents:
        e[ENT.n_mentions] = n_men[e[ENT.entity_id]]
        e[ENT.n_documents] = len(n_doc[e[ENT.entity_id]])


def _edges(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for ev in events:
        groups[(ev[EV.actor_id], ev[EV.target_id], ev[EV.type])].append(ev[EV.event_id])
    return [
        {EDGE.source_id: a, EDGE.target_id: t, EDGE.relation: rel, EDGE.weight: len(ids),
         EDGE.event_ids: ids}
        for (a, t, rel), ids in groups.items()
    ]


def write_store(out_dir: str | Path, n_events: int, seed: int = 7, **kwargs: Any) -> Path:
    """Generate a dataset and save it as a store folder."""
    return save_dataset(generate_dataset(n_events, seed, **kwargs), out_dir)


def _ids(prefix: str, *parts: np.ndarray) -> np.ndarray:
    # The same ids stable_id gives, one per row (the hashing is the slow part: keep it lean).
    joined = pd.Series(parts[0]).astype(str)
    for p in parts[1:]:
        joined = joined + "\x1f" + pd.Series(p).astype(str)
    blake = hashlib.blake2b
    return np.array([prefix + blake(x.encode(), digest_size=16).hexdigest()[:16]
                     for x in joined.tolist()], dtype=object)


def generate_fast(
    n_events: int, seed: int = 7, n_persons: int | None = None, hostile: bool = False,
    events_per_doc: int = 5,
) -> Dataset:
    """Like generate_dataset, vectorised: a million events in well under a minute.

    Frames are built at their contract dtypes but not validated (pandera's per-cell
    list checks would take longer than the generation); a test validates a small one.
    """
    rng = np.random.default_rng(seed)
    ents = _entities(random.Random(seed), n_persons or max(40, min(2000, n_events // 50)),
                     hostile)
    ent_df = pd.DataFrame(ents)
    names = ent_df[ENT.name].to_numpy(dtype=object)
    actor_pool = np.flatnonzero(ent_df[ENT.type].to_numpy() != "COUNTRY")
    weights = 1.0 / (np.arange(len(actor_pool)) + 1) ** 0.8
    n = n_events
    actor = actor_pool[rng.choice(len(actor_pool), size=n, p=weights / weights.sum())]
    target = rng.integers(0, len(ents), size=n)
    target = np.where(target == actor, (target + 1) % len(ents), target)
    types = np.array(list(PLOVER), dtype=object)
    t = rng.integers(0, len(types), size=n)
    verbs = np.array([PLOVER[k][0] for k in types], dtype=object)[t]
    modes = np.array([PLOVER[k][1][i % len(PLOVER[k][1])] for k in types for i in range(12)],
                     dtype=object).reshape(len(types), 12)[t, rng.integers(0, 12, size=n)]
    isos = np.array([c for c, _ in COUNTRIES], dtype=object)
    iso = isos[rng.integers(0, len(isos), size=n)]
    place = pd.Series(iso).map(lambda c: CAPITALS.get(c, dict(COUNTRIES)[c])).to_numpy()
    doc = np.arange(n) // events_per_doc
    sid = np.arange(n) % events_per_doc
    n_docs = int(doc[-1]) + 1 if n else 0
    start = np.datetime64("2025-01-01")
    published = start + rng.integers(0, 365, size=n_docs).astype("timedelta64[D]")
    day_text = pd.Series(pd.to_datetime(published)).dt.strftime("%B %d").to_numpy()
    heads = pd.Series(names[actor]) + " "
    sentence = (heads + pd.Series(verbs) + " " + pd.Series(names[target]) + " in "
                + pd.Series(place) + " on " + pd.Series(day_text[doc]) + ".")
    length = sentence.str.len().to_numpy()
    ends = np.cumsum(length + 1)
    first = ends - (length + 1)
    offset = first - first[doc * events_per_doc]  # start of each sentence within its doc
    doc_ids = _ids("d_", np.full(n_docs, "doc"), np.full(n_docs, seed), np.arange(n_docs))
    ev_doc = doc_ids[doc]
    sent = sentence.to_numpy(dtype=object)
    texts = [" ".join(sent[i:i + events_per_doc]) for i in range(0, n, events_per_doc)]
    sources = [f"synthetic/{i:06d}.txt" for i in range(n_docs)]
    first_of_doc = np.arange(0, n, events_per_doc)
    documents = pd.DataFrame({
        DOC.doc_id: doc_ids, DOC.source: sources, DOC.sources: [[x] for x in sources],
        DOC.title: (pd.Series(names[actor[first_of_doc]]) + " " + verbs[first_of_doc] + " "
                    + names[target[first_of_doc]]).to_numpy(),
        DOC.published: pd.to_datetime(published).astype("datetime64[ns]"),
        DOC.url: pd.Series([None] * n_docs, dtype=object), DOC.format: "txt",
        DOC.text: texts, DOC.n_words: [len(x.split()) for x in texts],
        DOC.topics: [[] for _ in range(n_docs)],
    })
    trig_start = offset + heads.str.len().to_numpy()
    target_start = trig_start + pd.Series(verbs).str.len().to_numpy() + 1
    ent_ids = ent_df[ENT.entity_id].to_numpy(dtype=object)
    dated = rng.random(n) > 0.03
    k = rng.integers(0, 3, size=n)
    pick = np.argsort(rng.random((n, len(TOPICS))), axis=1)[:, :2]
    topics_arr = np.array(TOPICS, dtype=object)
    topics = [sorted(topics_arr[p[:m]].tolist()) for p, m in zip(pick, k, strict=True)]
    type_names = types[t]
    events = pd.DataFrame({
        EV.event_id: _ids("ev_", ev_doc, sid, type_names), EV.doc_id: ev_doc,
        EV.sentence_id: sid.astype("int64"),
        EV.date: pd.Series(pd.to_datetime(published[doc])).where(dated).astype(
            "datetime64[ns]"),
        EV.date_precision: np.where(dated, "day", "unknown").astype(object),
        EV.type: type_names, EV.mode: modes, EV.actor_id: ent_ids[actor],
        EV.target_id: ent_ids[target], EV.location: iso, EV.place: place, EV.topics: topics,
        EV.evidence: sent, EV.evidence_start: offset.astype("int64"),
        EV.evidence_end: (offset + length).astype("int64"), EV.trigger: verbs,
        EV.trigger_start: trig_start.astype("int64"),
        EV.trigger_end: (target_start - 1).astype("int64"),
        EV.confidence: np.round(rng.uniform(0.5, 1.0, size=n), 3),
        EV.cluster_id: _ids("c_", ev_doc, sid),
    })
    m_ent = np.concatenate([actor, target])
    m_start = np.concatenate([offset, target_start]).astype("int64")
    m_doc = np.concatenate([ev_doc, ev_doc])
    m_text = names[m_ent]
    mentions = pd.DataFrame({
        MEN.mention_id: _ids("m_", m_doc, m_start), MEN.doc_id: m_doc,
        MEN.entity_id: ent_ids[m_ent], MEN.text: m_text,
        MEN.label: ent_df[ENT.type].to_numpy(dtype=object)[m_ent], MEN.start: m_start,
        MEN.end: m_start + pd.Series(m_text).str.len().to_numpy(),
        MEN.sentence_id: np.concatenate([sid, sid]).astype("int64"),
        MEN.role: np.repeat(np.array(["actor", "target"], dtype=object), n),
    })
    ent_df[ENT.n_mentions] = ent_df[ENT.entity_id].map(
        mentions[MEN.entity_id].value_counts()).fillna(0).astype("int64")
    ent_df[ENT.n_documents] = ent_df[ENT.entity_id].map(
        mentions.groupby(MEN.entity_id)[MEN.doc_id].nunique()).fillna(0).astype("int64")
    # Edges: one per (actor, target, type), its event ids in one list (sorted split, no apply).
    key = (actor.astype(np.int64) * len(ents) + target) * len(types) + t
    order = np.argsort(key, kind="stable")
    cuts = np.flatnonzero(np.diff(key[order])) + 1
    starts, stops = np.r_[0, cuts], np.r_[cuts, n]
    ids = events[EV.event_id].to_numpy()[order].tolist()
    head = order[starts]
    edges = pd.DataFrame({
        EDGE.source_id: ent_ids[actor[head]], EDGE.target_id: ent_ids[target[head]],
        EDGE.relation: type_names[head], EDGE.weight: (stops - starts).astype("int64"),
        EDGE.event_ids: [ids[a:b] for a, b in zip(starts.tolist(), stops.tolist(), strict=True)],
    })
    frames = {"documents": documents, "mentions": mentions, "entities": ent_df,
              "events": events, "edges": edges}
    frames = {k: v[schemas.COLUMNS[k]] for k, v in frames.items()}
    ds = Dataset(**frames, errors=[])
    ds.manifest = {"version": "synthetic", "sources": [], "counts": ds.counts(), "errors": [],
                   "timings": {}, "built_at": "2025-12-31T00:00:00+00:00"}
    return ds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fast", action="store_true", help="vectorised generator (numpy)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.fast:
        print(save_dataset(generate_fast(args.events, args.seed), args.out))
    else:
        print(write_store(args.out, args.events, args.seed))


if __name__ == "__main__":
    main()
