"""Mention -> Entity: aliases, diacritics, surname coreference, affiliation.

STUB: interface fixed, implementation pending.
"""

from __future__ import annotations

from core.model import AnnotatedDocument, Entity


def resolve(docs: list[AnnotatedDocument]) -> list[Entity]:
    """Group the mentions of all documents into entities.

    Sets ``mention_id`` and ``entity_id`` on every mention in place and returns the
    entities (with aliases, roles and counts). Ids are stable hashes of content.
    """
    return []
