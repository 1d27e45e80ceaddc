"""ACLED CSV exports -> the five frames.

One ACLED row is one event and one document: the document's text is the row's
``notes`` (ACLED's summary of its sources), its ``source`` the row's ``source``
(e.g. "Reuters; Premium Times"), its title made from sub-event type and location.
The event's evidence is the whole note, so ``text[evidence_start:evidence_end]``
holds as for built stores.

- Type and mode: (event_type, sub_event_type) -> PLOVER through
  core/resources/acled_plover.csv, with a ``*`` row per event type as fallback.
  Rows whose category has no PLOVER equivalent (most Strategic developments) are
  skipped and counted in the manifest.
- Actors: actor1 is the actor, actor2 the target; assoc_actor_1/2 (";"-separated)
  become entities linked to their main actor by CO_MENTION edges carrying the event
  id. An actor named like a country is a COUNTRY; any other is an ORGANIZATION whose
  country is the one its name mentions ("Police Forces of Nigeria (2015-)" -> NGA),
  so an actor's id does not depend on where it acted.
- Location: ISO3 from ``iso`` (ISO 3166 numeric) or else ``country``; place from
  location and admin1.
- Dates: event_date as YYYY-MM-DD or "15 January 2024" (older exports).
  time_precision 1 -> day; 2 (known to the week) and 3 (known to the month) ->
  month, as the contract has no week precision and a week may straddle months.
- Confidence 1.0: ACLED is coded by people from the cited reports.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import IO, Any

from core import schemas
from core.errors import IngestError
from core.ids import stable_id
from core.interop.common import (
    Collector,
    countries,
    open_members,
    organization_or_country,
    read_resource_csv,
)
from core.pipeline import Dataset

REQUIRED = ("event_date", "event_type", "actor1")
DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%d %b %Y", "%d-%b-%Y")
PRECISION = {"1": "day", "2": "month", "3": "month"}
CONFIDENCE = 1.0
_MAX_FIELD = 10 * 1024 * 1024  # notes can be long; the csv default (128 KB) is too small


@dataclass(frozen=True)
class Mapping:
    type: str | None
    mode: str | None


@cache
def acled_table() -> dict[tuple[str, str], Mapping]:
    return {
        (row["event_type"].casefold(), row["sub_event_type"].casefold()): Mapping(
            row["type"] or None, row["mode"] or None
        )
        for row in read_resource_csv("acled_plover.csv")
    }


def acled_to_plover(event_type: str, sub_event_type: str) -> Mapping | None:
    """PLOVER type/mode of an ACLED category; None if the event type is unknown."""
    table = acled_table()
    et, sub = event_type.strip().casefold(), sub_event_type.strip().casefold()
    return table.get((et, sub)) or table.get((et, "*"))


def parse_date(value: str) -> date:
    value = value.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def _actor_names(value: str) -> list[str]:
    return [n.strip() for n in (value or "").split(";") if n.strip()]


class _Reader:
    def __init__(self) -> None:
        self.c = Collector("acled")

    def _entity(self, name: str, doc_id: str) -> str:
        shown, etype, iso = organization_or_country(name, None)
        if iso is None:
            iso = countries().find_in(name)
        return self.c.entity(shown, etype, iso, doc_id=doc_id, alias=name)

    def row(self, r: dict[str, str], file: str, line: int) -> None:
        try:
            day = parse_date(r.get("event_date", ""))
        except ValueError:
            return self.c.row_error(file, line, f"bad event_date {r.get('event_date')!r}")
        precision = PRECISION.get((r.get("time_precision") or "1").strip())
        if precision is None:
            bad = r.get("time_precision")
            return self.c.row_error(file, line, f"bad time_precision {bad!r} (1, 2 or 3)")
        event_type, sub = r.get("event_type", ""), r.get("sub_event_type", "")
        mapping = acled_to_plover(event_type, sub)
        if mapping is None:
            return self.c.row_error(file, line, f"unknown event_type {event_type!r}")
        if mapping.type is None:
            self.c.skipped[f"{event_type}: {sub or '-'} (no PLOVER category)"] += 1
            return None
        actor_name = (r.get("actor1") or "").strip()
        if not actor_name:
            return self.c.row_error(file, line, "empty actor1")
        c = countries()
        iso3 = (r.get("iso3") or "").strip().upper()  # some exports carry it
        location = (iso3 if iso3 in c.names else None) or c.from_numeric(r.get("iso", "")) \
            or c.from_name(r.get("country", ""))
        ext_id = (r.get("event_id_cnty") or "").strip()
        key = ext_id or stable_id(*(r.get(k, "") for k in sorted(r)))
        notes = (r.get("notes") or "").strip()
        place = ", ".join(p for p in (r.get("location", ""), r.get("admin1", "")) if p.strip())
        where = ", ".join(p for p in (place, r.get("country", "")) if p.strip())
        doc_id = self.c.document(
            f"acled:{key}",
            file=file,
            fmt="acled",
            title=f"{sub or event_type}" + (f" in {where}" if where else ""),
            text=notes,
        )
        # The document's source column is the ACLED citation, not our key.
        self.c.documents[doc_id][schemas.DOC.source] = (r.get("source") or "").strip() or "ACLED"
        actor = self._entity(actor_name, doc_id)
        target_name = (r.get("actor2") or "").strip()
        target = self._entity(target_name, doc_id) if target_name else None
        ev_id = stable_id("acled-event", key)
        added = self.c.event({
            schemas.EV.event_id: ev_id,
            schemas.EV.doc_id: doc_id,
            schemas.EV.sentence_id: 0,
            schemas.EV.date: day,
            schemas.EV.date_precision: precision,
            schemas.EV.type: mapping.type,
            schemas.EV.mode: mapping.mode,
            schemas.EV.actor_id: actor,
            schemas.EV.target_id: target if target != actor else None,
            schemas.EV.location: location,
            schemas.EV.place: place or None,
            schemas.EV.topics: [],
            schemas.EV.evidence: notes,
            schemas.EV.evidence_start: 0,
            schemas.EV.evidence_end: len(notes),
            schemas.EV.trigger: "",
            schemas.EV.trigger_start: 0,
            schemas.EV.trigger_end: 0,
            schemas.EV.confidence: CONFIDENCE,
            schemas.EV.cluster_id: ev_id,
        })
        if added:
            for main, col in ((actor, "assoc_actor_1"), (target, "assoc_actor_2")):
                for name in _actor_names(r.get(col, "")):
                    if main is not None:
                        self.c.co_mention(main, self._entity(name, doc_id), ev_id)
        return None

    def read_stream(self, label: str, stream: IO[str]) -> None:
        reader = csv.DictReader(stream)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [h for h in REQUIRED if h not in header]
        if not header or missing or not ({"iso", "country"} & set(header)):
            need = missing or ["iso or country"]
            raise IngestError(f"not an ACLED export: no column {', '.join(need)}", label)
        reader.fieldnames = header
        while True:
            before = reader.line_num
            try:
                row: dict[str, Any] | None = next(reader, None)
            except csv.Error as exc:
                self.c.row_error(label, reader.line_num, f"unreadable CSV: {exc}")
                if reader.line_num == before:  # the reader cannot move past it
                    break
                continue
            if row is None:
                break
            self.c.rows += 1
            if None in row:
                self.c.row_error(
                    label, reader.line_num, f"more columns than the header's {len(header)}"
                )
                continue
            if any(v is None for v in row.values()):
                self.c.row_error(
                    label, reader.line_num, f"fewer columns than the header's {len(header)}"
                )
                continue
            self.row({k: v or "" for k, v in row.items()}, label, reader.line_num)


def read_acled(sources: Iterable[str | Path]) -> Dataset:
    """Import ACLED CSV exports (files, folders, zips) into a Dataset.

    Bad rows become error records ({file, reason, kind, line}) and are skipped;
    a file that is not an ACLED export is one error record.
    """
    csv.field_size_limit(max(csv.field_size_limit(), _MAX_FIELD))
    sources = [str(s) for s in sources]
    reader = _Reader()
    for item in reader.c.input_files(sources):
        if item.suffix.lower() in (".xlsx", ".xls"):
            reader.c.error(IngestError("Excel files are not read: export the data as CSV", item))
            continue
        try:
            for label, stream in open_members(item):
                reader.read_stream(label, stream)
        except IngestError as exc:
            reader.c.error(exc)
        except (zipfile.BadZipFile, OSError, EOFError, UnicodeError) as exc:
            reader.c.error(IngestError(f"cannot read: {exc}", item))
    return reader.c.dataset(
        sources, notes="One document per ACLED event: its text is the event's notes."
    )
