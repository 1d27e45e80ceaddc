"""Entities + events -> relationship edges.

Two kinds of edge:

* one per (actor, target, PLOVER type): weight = number of events, ``event_ids`` lists
  them (sorted). Events without a target give no edge.
* ``CO_MENTION`` per unordered entity pair named in the same sentence: weight = number of
  sentences naming both, ``event_ids`` empty. The pair is stored with the smaller id as
  ``source_id`` so each pair appears once.

Output order is deterministic: by relation, then source_id, then target_id. The work
is done on the frames (column-wise), so it costs little even at millions of mentions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import schemas
from core.model import AnnotatedDocument, Edge, Event

CO_MENTION = "CO_MENTION"

EV, MEN, EDGE = schemas.EV, schemas.MEN, schemas.EDGE


def edges_frame(events: pd.DataFrame, mentions: pd.DataFrame) -> pd.DataFrame:
    """The edges frame of an events frame and a mentions frame (doc_id, sentence_id,
    entity_id are the mention columns it reads).

    Entity ids are replaced by their rank among the sorted ids, so that grouping and
    sorting work on integers; the order is the same as on the strings.
    """
    named = mentions[mentions[MEN.entity_id].notna()]
    ev = events[events[EV.target_id].notna() & (events[EV.target_id] != events[EV.actor_id])]
    ids = pd.Index(sorted({*named[MEN.entity_id].unique(), *ev[EV.actor_id].unique(),
                           *ev[EV.target_id].unique()}))
    rank = {eid: i for i, eid in enumerate(ids)}
    types = pd.Index(sorted(ev[EV.type].unique()))

    # Typed edges: one per run of equal (type, actor, target) once sorted.
    t = schemas.map_values(ev[EV.type], {x: i for i, x in enumerate(types)}, -1, np.int64)
    a = schemas.map_values(ev[EV.actor_id], rank, -1, np.int64)
    b = schemas.map_values(ev[EV.target_id], rank, -1, np.int64)
    e = pd.factorize(ev[EV.event_id], sort=True)[0]  # event ids are unique in the frame
    order = np.lexsort((e, b, a, t))
    t, a, b = t[order], a[order], b[order]
    event_ids = ev[EV.event_id].to_numpy(dtype=object)[order].tolist()
    new = np.ones(len(order), dtype=bool)
    new[1:] = (t[1:] != t[:-1]) | (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    starts = np.flatnonzero(new)
    ends = [*starts[1:].tolist(), len(order)] if len(order) else []
    groups = [event_ids[i:j] for i, j in zip(starts.tolist(), ends, strict=True)]
    typed = pd.DataFrame({
        EDGE.source_id: ids[a[starts]], EDGE.target_id: ids[b[starts]],
        EDGE.relation: types[t[starts]], EDGE.weight: [len(g) for g in groups],
        EDGE.event_ids: groups,
    })

    # Co-mentions: entity pairs per (document, sentence), counted over sentences.
    doc = pd.factorize(named[MEN.doc_id])[0].astype(np.int64)
    sentence = (doc << 32) + named[MEN.sentence_id].to_numpy(dtype=np.int64)
    per_sentence = pd.DataFrame({
        "s": sentence, "e": schemas.map_values(named[MEN.entity_id], rank, -1, np.int32),
    }).drop_duplicates()
    pairs = per_sentence.merge(per_sentence, on="s")
    pairs = pairs[pairs["e_x"] < pairs["e_y"]]
    co = pairs.groupby(["e_x", "e_y"]).size()
    del pairs
    co_a = co.index.get_level_values(0).to_numpy()
    co_b = co.index.get_level_values(1).to_numpy()
    empty: list[str] = []
    comention = pd.DataFrame({
        EDGE.source_id: ids[co_a], EDGE.target_id: ids[co_b], EDGE.relation: CO_MENTION,
        EDGE.weight: co.to_numpy(), EDGE.event_ids: [empty] * len(co),
    })

    out = pd.concat([typed, comention], ignore_index=True)
    # The relations sort by name; within one, pairs are already in id order.
    out = out.sort_values(EDGE.relation, kind="stable")
    return schemas.validate("edges", out[schemas.COLUMNS["edges"]].reset_index(drop=True))


_SEP = "\x1f"  # between the parts of an edge key


def _keys(edges: pd.DataFrame) -> pd.Series:
    """One string per edge, (relation, source, target), that sorts as the edges do."""
    return edges[EDGE.relation] + _SEP + edges[EDGE.source_id] + _SEP + edges[EDGE.target_id]


def patch_edges(edges: pd.DataFrame, minus: pd.DataFrame, plus: pd.DataFrame) -> pd.DataFrame:
    """The edges of a collection, from its earlier ``edges`` and the edges of the
    documents taken out (``minus``) and put in (``plus``) since.

    Edges are sums over documents (events and sentences), so this equals edges_frame
    of the new collection; only the edges ``minus`` or ``plus`` touch are recomputed.
    """
    if not len(minus) and not len(plus):
        return edges
    key = _keys(edges)
    touched: dict[str, list] = {}  # key -> [source, target, relation, weight, event ids]
    for part, sign in ((edges.loc[key.isin(set(_keys(minus)) | set(_keys(plus))).to_numpy()], 1),
                       (minus, -1), (plus, 1)):
        for src, tgt, rel, weight, ids in part[schemas.COLUMNS["edges"]].itertuples(index=False):
            k = f"{rel}{_SEP}{src}{_SEP}{tgt}"
            row = touched.setdefault(k, [src, tgt, rel, 0, set()])
            row[3] += sign * int(weight)
            row[4] = row[4] - set(ids) if sign < 0 else row[4] | set(ids)
    patched = sorted((k, (s, t, r, w, sorted(ids))) for k, (s, t, r, w, ids) in touched.items()
                     if w > 0)
    kept = np.flatnonzero(~key.isin(touched).to_numpy())
    # The kept edges are in order: each patched one goes in where its key sorts.
    at = np.searchsorted(key.iloc[kept].to_numpy(dtype=object), [k for k, _ in patched])
    both = pd.concat([edges, pd.DataFrame([row for _, row in patched],
                                          columns=schemas.COLUMNS["edges"])], ignore_index=True)
    order = np.insert(kept, at, np.arange(len(edges), len(both)))
    trusted = order < len(edges)  # rows as they were: checked when made
    return schemas.validate("edges", schemas.take_rows(both, order), trusted)


def build_edges(events: list[Event], docs: list[AnnotatedDocument]) -> list[Edge]:
    """edges_frame for records: one edge per entity pair and relation."""
    ev = pd.DataFrame([(e.type, e.actor_id, e.target_id, e.event_id) for e in events],
                      columns=[EV.type, EV.actor_id, EV.target_id, EV.event_id], dtype=object)
    men = pd.DataFrame(
        [(ad.document.doc_id, m.sentence_id, m.entity_id) for ad in docs for m in ad.mentions],
        columns=[MEN.doc_id, MEN.sentence_id, MEN.entity_id],
    )
    df = edges_frame(ev, men)
    return [Edge(*row) for row in df.itertuples(index=False)]
