"""build_dataset: the whole pipeline, from source paths to five validated frames.

ingest -> extract_entities -> resolve -> extract_events -> graph. Stages exchange
typed records (core.model); frames are made here, at the edge, through core.schemas.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from core import extract_entities, extract_events, graph, ingest, resolve, schemas
from core.errors import ConfigError, DyadError, IngestError
from core.model import AnnotatedDocument, Document

__version__ = "0.1.0"

# progress(done, total, stage) is called as work advances; stage names the step.
ProgressFn = Callable[[int, int, str], None]


@dataclass
class Dataset:
    """The five frames of the data contract, plus the build's errors and manifest."""

    documents: pd.DataFrame
    mentions: pd.DataFrame
    entities: pd.DataFrame
    events: pd.DataFrame
    edges: pd.DataFrame
    errors: list[dict[str, Any]] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in schemas.FRAMES}

    def counts(self) -> dict[str, int]:
        return {name: len(df) for name, df in self.frames().items()}


def _read_all(
    sources: Iterable[str | Path], errors: list[DyadError]
) -> tuple[list[Document], list[str]]:
    """Read every source file; documents with the same doc_id merge their sources."""
    by_id: dict[str, Document] = {}
    files: list[str] = []
    for item in ingest.iter_source_files(sources):
        if isinstance(item, DyadError):
            errors.append(item)
            continue
        files.append(str(item))
        try:
            docs = ingest.read_file(item)
        except DyadError as exc:
            errors.append(exc)
            continue
        except Exception as exc:  # a bug must not sink the batch; report it for this file
            errors.append(IngestError(f"unexpected error: {type(exc).__name__}: {exc}", item))
            continue
        for doc in docs:
            known = by_id.get(doc.doc_id)
            if known is None:
                by_id[doc.doc_id] = doc
            else:
                known.sources.extend(s for s in doc.sources if s not in known.sources)
                # Keep the richer metadata when the copies differ.
                known.published = known.published or doc.published
                known.url = known.url or doc.url
    return list(by_id.values()), files


def _document_rows(docs: list[Document]) -> list[dict[str, Any]]:
    rows = []
    for d in docs:
        row = asdict(d)
        row["n_words"] = len(d.text.split())
        rows.append(row)
    return rows


def build_dataset(
    sources: Iterable[str | Path],
    on_error: Literal["collect", "raise"] = "collect",
    backend: str = extract_entities.DEFAULT_BACKEND,
    progress: ProgressFn | None = None,
) -> Dataset:
    """Run the pipeline on files and folders (recursively) and return the Dataset.

    With ``on_error="collect"`` a bad file becomes an error record (file, reason)
    and the rest still builds; with ``"raise"`` the first DyadError is raised.
    """
    if on_error not in ("collect", "raise"):
        raise ConfigError(f"on_error must be 'collect' or 'raise', not {on_error!r}")
    sources = [str(s) for s in sources]
    errors: list[DyadError] = []
    timings: dict[str, float] = {}

    def step(name: str, t0: float) -> float:
        t1 = time.perf_counter()
        timings[name] = round(t1 - t0, 4)
        return t1

    t = time.perf_counter()
    docs, files = _read_all(sources, errors)
    t = step("ingest", t)
    if on_error == "raise" and errors:
        raise errors[0]

    annotated: list[AnnotatedDocument] = []
    for i, doc in enumerate(docs):
        try:
            annotated.append(extract_entities.annotate(doc, backend))
        except ConfigError:
            raise  # a wrong backend affects every document: stop at once
        except Exception as exc:
            err = exc if isinstance(exc, DyadError) else DyadError(
                f"entity extraction failed: {type(exc).__name__}: {exc}", doc.source
            )
            if on_error == "raise":
                raise err from exc
            errors.append(err)
        if progress:
            progress(i + 1, len(docs), "entities")
    t = step("entities", t)

    entities = resolve.resolve(annotated)
    by_entity = {e.entity_id: e for e in entities}
    t = step("resolve", t)

    events = []
    for i, ad in enumerate(annotated):
        events.extend(extract_events.extract_events(ad, by_entity))
        if progress:
            progress(i + 1, len(annotated), "events")
    extract_events.cluster_events(events)
    t = step("events", t)

    edges = graph.build_edges(events, annotated)
    t = step("graph", t)

    kept_docs = [ad.document for ad in annotated]
    mentions = [m for ad in annotated for m in ad.mentions if m.entity_id]
    ds = Dataset(
        documents=schemas.to_frame("documents", _document_rows(kept_docs)),
        mentions=schemas.to_frame("mentions", mentions),
        entities=schemas.to_frame("entities", entities),
        events=schemas.to_frame("events", events),
        edges=schemas.to_frame("edges", edges),
        errors=[e.to_record() for e in errors],
    )
    step("frames", t)
    ds.manifest = {
        "version": __version__,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "backend": backend,
        "sources": sources,
        "files": len(files),
        "counts": ds.counts(),
        "errors": ds.errors,
        "timings": timings,
    }
    return ds
