"""Entities + events -> relationship edges.

Two kinds of edge:

* one per (actor, target, PLOVER type): weight = number of events, ``event_ids`` lists
  them (sorted). Events without a target give no edge.
* ``CO_MENTION`` per unordered entity pair named in the same sentence: weight = number of
  sentences naming both, ``event_ids`` empty. The pair is stored with the smaller id as
  ``source_id`` so each pair appears once.

Output order is deterministic: by relation, then source_id, then target_id.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

from core.model import AnnotatedDocument, Edge, Event

CO_MENTION = "CO_MENTION"


def build_edges(events: list[Event], docs: list[AnnotatedDocument]) -> list[Edge]:
    """One edge per entity pair and relation (event type or CO_MENTION)."""
    by_relation: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for ev in events:
        if ev.target_id is None or ev.target_id == ev.actor_id:
            continue
        by_relation[(ev.type, ev.actor_id, ev.target_id)].add(ev.event_id)
    edges = [
        Edge(source_id=a, target_id=b, relation=rel, weight=len(ids), event_ids=sorted(ids))
        for (rel, a, b), ids in by_relation.items()
    ]
    co: dict[tuple[str, str], int] = defaultdict(int)
    for ad in docs:
        per_sentence: dict[int, set[str]] = defaultdict(set)
        for m in ad.mentions:
            if m.entity_id:
                per_sentence[m.sentence_id].add(m.entity_id)
        for ids in per_sentence.values():
            for a, b in combinations(sorted(ids), 2):
                co[(a, b)] += 1
    edges.extend(
        Edge(source_id=a, target_id=b, relation=CO_MENTION, weight=n, event_ids=[])
        for (a, b), n in co.items()
    )
    edges.sort(key=lambda e: (e.relation, e.source_id, e.target_id))
    return edges
