"""Document -> sentences + Mention records (rules backend or a spaCy pipeline).

STUB: interface fixed, implementation pending.
"""

from __future__ import annotations

from core.model import AnnotatedDocument, Document, Sentence

DEFAULT_BACKEND = "rules"


def annotate(doc: Document, backend: str = DEFAULT_BACKEND) -> AnnotatedDocument:
    """Split the document into sentences and find entity mentions (unresolved)."""
    return AnnotatedDocument(doc, [Sentence(0, 0, len(doc.text))], [])
