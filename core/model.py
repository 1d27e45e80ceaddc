"""Typed records passed between pipeline stages.

Data flows one way: ingest -> extract_entities -> resolve -> extract_events ->
graph. Each stage takes and returns these records; DataFrames appear only at the
edge (core.pipeline / core.store), built through core.schemas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Entity types, fixed by the data contract.
PERSON = "PERSON"
ORGANIZATION = "ORGANIZATION"
COUNTRY = "COUNTRY"
LOCATION = "LOCATION"
ENTITY_TYPES = (PERSON, ORGANIZATION, COUNTRY, LOCATION)

# Date precisions of events.
PRECISIONS = ("day", "month", "year", "unknown")


@dataclass(slots=True)
class Document:
    """One article after ingestion: clean body text plus metadata."""

    doc_id: str
    source: str  # first file (and row/index for multi-article files) it came from
    title: str
    text: str  # clean body, boilerplate removed, NFC
    published: date | None = None
    url: str | None = None
    sources: list[str] = field(default_factory=list)  # every file holding this article
    format: str = "txt"


@dataclass(slots=True)
class Sentence:
    sentence_id: int  # 0-based index within the document
    start: int  # character offsets into Document.text
    end: int


@dataclass(slots=True)
class Mention:
    """One span of text naming an entity; entity_id is set by core.resolve."""

    doc_id: str
    start: int
    end: int
    text: str  # == document.text[start:end]
    label: str  # one of ENTITY_TYPES
    sentence_id: int
    # Hints from the extractor that resolution uses:
    key: str | None = None  # gazetteer id when a gazetteer matched (e.g. "ORG:MIT", "TUR")
    canonical: str | None = None  # gazetteer's preferred name
    country: str | None = None  # ISO3 the text or gazetteer ties it to
    role: str | None = None  # title/role the text gives a person ("Foreign Minister")
    mention_id: str | None = None
    entity_id: str | None = None


@dataclass(slots=True)
class AnnotatedDocument:
    """A document with its sentences and (unresolved or resolved) mentions."""

    document: Document
    sentences: list[Sentence]
    mentions: list[Mention]
    # Backend-specific parse (a spaCy Doc) for event extraction; never serialised.
    parse: Any = None
    topics: list[str] = field(default_factory=list)  # the document's topics (core.topics)


@dataclass(slots=True)
class Entity:
    entity_id: str
    name: str
    type: str
    country: str | None = None
    aliases: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    n_mentions: int = 0
    n_documents: int = 0


@dataclass(slots=True)
class Event:
    event_id: str
    doc_id: str
    sentence_id: int
    type: str  # PLOVER event type, e.g. CONSULT
    mode: str | None
    actor_id: str
    target_id: str | None
    date: date | None
    date_precision: str  # one of PRECISIONS
    location: str | None  # ISO3
    place: str | None  # place name as the text gives it
    topics: list[str]
    evidence: str  # the sentence
    evidence_start: int
    evidence_end: int
    trigger: str
    trigger_start: int
    trigger_end: int
    confidence: float
    cluster_id: str | None = None


@dataclass(slots=True)
class Edge:
    source_id: str
    target_id: str
    relation: str  # PLOVER type, or "CO_MENTION"
    weight: int
    event_ids: list[str]
