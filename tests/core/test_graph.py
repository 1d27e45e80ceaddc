"""Relationship edges from events and co-mentions (core.graph)."""

from __future__ import annotations

from core.graph import build_edges
from core.model import AnnotatedDocument, Document, Event, Mention, Sentence


def _event(eid: str, actor: str, target: str | None, etype: str = "CONSULT") -> Event:
    return Event(event_id=eid, doc_id="d", sentence_id=0, type=etype, mode=None,
                 actor_id=actor, target_id=target, date=None, date_precision="unknown",
                 location=None, place=None, topics=[], evidence="x", evidence_start=0,
                 evidence_end=1, trigger="x", trigger_start=0, trigger_end=1, confidence=0.5)


def _doc(sentences: list[list[str]]) -> AnnotatedDocument:
    mentions = [Mention("d", 0, 1, "x", "PERSON", sid, entity_id=eid)
                for sid, ids in enumerate(sentences) for eid in ids]
    sents = [Sentence(i, 0, 1) for i in range(len(sentences))]
    return AnnotatedDocument(Document("d", "d.txt", "", "x"), sents, mentions)


def test_event_edges_count_events_and_list_them() -> None:
    events = [_event("e2", "A", "B"), _event("e1", "A", "B"), _event("e3", "A", "B", "ACCUSE"),
              _event("e4", "B", "A")]
    edges = build_edges(events, [])
    got = {(e.source_id, e.target_id, e.relation): (e.weight, e.event_ids) for e in edges}
    assert got == {
        ("A", "B", "CONSULT"): (2, ["e1", "e2"]),
        ("A", "B", "ACCUSE"): (1, ["e3"]),
        ("B", "A", "CONSULT"): (1, ["e4"]),
    }


def test_events_without_target_make_no_edge() -> None:
    assert build_edges([_event("e1", "A", None)], []) == []


def test_co_mentions_count_sentences_once_per_pair() -> None:
    doc = _doc([["A", "B", "B"], ["B", "A"], ["C"], ["A", "C"]])
    edges = build_edges([], [doc])
    got = {(e.source_id, e.target_id): (e.relation, e.weight, e.event_ids) for e in edges}
    assert got == {("A", "B"): ("CO_MENTION", 2, []), ("A", "C"): ("CO_MENTION", 1, [])}


def test_edge_order_is_deterministic() -> None:
    events = [_event("e1", "Z", "A"), _event("e2", "A", "Z", "ASSAULT"), _event("e3", "B", "C")]
    doc = _doc([["Z", "A"], ["C", "B"]])
    first = build_edges(events, [doc])
    second = build_edges(list(reversed(events)), [doc])
    assert first == second
    keys = [(e.relation, e.source_id, e.target_id) for e in first]
    assert keys == sorted(keys)


def test_patched_edges_equal_the_edges_of_the_new_collection(seeds_ds) -> None:
    """Taking a document's edges out and putting another's in gives what computing
    the edges of the new set of documents gives (what a rebuild relies on)."""
    import pandas as pd

    from core.graph import edges_frame, patch_edges

    first, second = seeds_ds.documents["doc_id"]

    def edges_of(*docs: str) -> pd.DataFrame:
        ev, men = seeds_ds.events, seeds_ds.mentions
        return edges_frame(ev[ev["doc_id"].isin(docs)], men[men["doc_id"].isin(docs)])

    both, one, other = edges_of(first, second), edges_of(first), edges_of(second)
    assert len(one) and len(other) and len(both) < len(one) + len(other)  # they share edges
    pd.testing.assert_frame_equal(patch_edges(one, one.iloc[:0], other), both)  # one added
    pd.testing.assert_frame_equal(patch_edges(both, other, other.iloc[:0]), one)  # one removed
    pd.testing.assert_frame_equal(patch_edges(one, one, other), other)  # one replaced
