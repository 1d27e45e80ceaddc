"""Topic taxonomy (core/resources/topics.yaml) -> topic labels of a text.

STUB: interface fixed, implementation pending.
"""

from __future__ import annotations


def topics_for(text: str) -> list[str]:
    """Topic ids the text is about, sorted."""
    return []
