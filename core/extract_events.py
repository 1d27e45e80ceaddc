"""Sentences -> Event records (PLOVER type + mode, actor, target, place, date).

STUB: interface fixed, implementation pending.
"""

from __future__ import annotations

from core.model import AnnotatedDocument, Entity, Event


def extract_events(ad: AnnotatedDocument, entities: dict[str, Entity]) -> list[Event]:
    """Events of one document whose mentions are already resolved."""
    return []


def cluster_events(events: list[Event]) -> None:
    """Give events that report the same happening across documents one cluster_id."""
    for ev in events:
        ev.cluster_id = ev.cluster_id or ev.event_id
