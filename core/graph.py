"""Entities + events -> relationship edges.

STUB: interface fixed, implementation pending.
"""

from __future__ import annotations

from core.model import AnnotatedDocument, Edge, Event


def build_edges(events: list[Event], docs: list[AnnotatedDocument]) -> list[Edge]:
    """One edge per entity pair and relation (event type or CO_MENTION)."""
    return []
