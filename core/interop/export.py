"""Frames -> files other tools open: CSV, JSON, Parquet, PLOVER JSON, GEXF, GraphML, FtM.

Every exporter is a plain function returning bytes, so the CLI writes them to a file
and the dashboard offers them as downloads:

- ``frame_csv(df)`` / ``events_csv(df, entities=None)``: UTF-8 CSV; list cells joined
  with "|"; dates as YYYY-MM-DD; a text cell starting with = + - @ tab or CR gets a
  leading apostrophe so a spreadsheet does not run it as a formula.
- ``events_json(df)``: a JSON array of records (lists stay lists, null for missing).
- ``events_parquet(df)``: the frame as Parquet.
- ``plover_json(ds)``: PLOVER JSON Lines, one event per line, with the PLOVER field
  names (id, date, source, recipient, event, mode, context, event_loc, event_text,
  quad_code, link, text_info, cite_info, coder); ``read_plover`` reads it back into a
  Dataset with the same ids.
- ``network_gexf(ds)`` / ``network_graphml(ds)``: the entity network (networkx
  MultiDiGraph: nodes are entities with name/type/country, edges carry
  relation/weight/event_ids) for Gephi, Cytoscape, yEd.
- ``entities_ftm(df)``: followthemoney entities as JSON lines (Person, Organization,
  Territory for countries, Address for other places).
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from core import schemas, yamlio
from core.errors import IngestError
from core.interop.common import (
    RESOURCES,
    Collector,
    countries,
    iter_input_files,
    open_members,
    read_resource_csv,
)
from core.model import COUNTRY, LOCATION, ORGANIZATION, PERSON, PRECISIONS
from core.pipeline import Dataset, __version__

LIST_SEP = "|"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot carry, even escaped; untrusted names must not break a file.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CODER = f"Dyad {__version__}"


# --- helpers ----------------------------------------------------------------------


def neutralise(cell: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def _plain(value: Any) -> Any:
    """A cell as plain JSON-able Python: None for missing, ISO dates, lists of str."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # numpy scalars and arrays
        if isinstance(value, list):
            return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _plain_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns of plain values: ISO date strings, None for missing, lists as lists."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), None)
        elif s.dtype == object and s.map(lambda v: isinstance(v, (list, tuple))).any():
            out[col] = s.map(lambda v: [_plain(x) for x in v] if isinstance(v, (list, tuple))
                             else _plain(v))
        else:
            out[col] = s.astype(object).where(s.notna(), None)
    return out


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    if len(df) == 0:
        return []
    return _plain_frame(df).to_dict("records")


def _xml_text(value: Any) -> str:
    return _XML_BAD.sub("", "" if value is None else str(value))


# --- tables -----------------------------------------------------------------------


def frame_csv(df: pd.DataFrame) -> bytes:
    """Any frame as a spreadsheet-safe UTF-8 CSV."""
    out = _plain_frame(df)
    for col in out.columns:
        out[col] = out[col].map(
            lambda v: neutralise(LIST_SEP.join(map(str, v)) if isinstance(v, list) else v)
        )
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _with_names(df: pd.DataFrame, entities: pd.DataFrame | None) -> pd.DataFrame:
    if entities is None:
        return df
    names = dict(zip(entities[schemas.ENT.entity_id], entities[schemas.ENT.name], strict=True))
    out = df.copy()
    out["actor_name"] = out[schemas.EV.actor_id].map(names)
    out["target_name"] = out[schemas.EV.target_id].map(names)
    return out


def events_csv(df: pd.DataFrame, entities: pd.DataFrame | None = None) -> bytes:
    """Events as CSV; with ``entities``, actor_name and target_name columns are added."""
    return frame_csv(_with_names(df, entities))


def events_json(df: pd.DataFrame, entities: pd.DataFrame | None = None) -> bytes:
    """Events as a JSON array of records, one per line (optionally with actor/target names)."""
    rows = [json.dumps(rec, ensure_ascii=False) for rec in _records(_with_names(df, entities))]
    return ("[\n" + ",\n".join(rows) + "\n]\n").encode("utf-8")


def events_parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


# --- PLOVER -----------------------------------------------------------------------


QUADS = {"verbal cooperation": 1, "material cooperation": 2, "verbal conflict": 3,
         "material conflict": 4}


@cache
def quad_codes() -> dict[str, int]:
    """PLOVER type -> quad category (1 verbal coop .. 4 material conflict).

    The event lexicon (core/resources/plover.yaml) is the authority; the CAMEO table's
    quad column fills in types the lexicon lacks.
    """
    import yaml

    quads: dict[str, int] = {}
    try:
        lexicon = yamlio.safe_load((RESOURCES / "plover.yaml").read_text(encoding="utf-8"))
        for name, spec in ((lexicon or {}).get("types") or {}).items():
            if isinstance(spec, dict) and spec.get("quad") in QUADS:
                quads[name] = QUADS[spec["quad"]]
    except (OSError, yaml.YAMLError):
        pass  # no lexicon (or an unreadable one): the CSV below still answers
    for row in read_resource_csv("cameo_plover.csv"):
        if row["type"] and row["quad"]:
            quads.setdefault(row["type"], int(row["quad"]))
    return quads


def _actor_object(ent: dict[str, Any] | None, ent_id: str) -> dict[str, Any]:
    ent = ent or {}
    name = ent.get(schemas.ENT.name)
    return {
        "code": ent.get(schemas.ENT.country),
        "actor_text": name,
        "identifier_id": ent_id,
        "identifier_text": name,
        # Extensions (PLOVER allows extra fields): what a round trip needs.
        "entity_type": ent.get(schemas.ENT.type),
        "aliases": ent.get(schemas.ENT.aliases) or [],
    }


def plover_records(ds: Dataset) -> list[dict[str, Any]]:
    ents = {e[schemas.ENT.entity_id]: e for e in _records(ds.entities)}
    docs = {d[schemas.DOC.doc_id]: d for d in _records(ds.documents)}
    quads = quad_codes()
    out = []
    for ev in _records(ds.events):
        doc = docs.get(ev[schemas.EV.doc_id], {})
        target = ev[schemas.EV.target_id]
        loc = None
        if ev[schemas.EV.location] or ev[schemas.EV.place]:
            loc = {"cc3": ev[schemas.EV.location], "name": ev[schemas.EV.place]}
        out.append({
            "id": ev[schemas.EV.event_id],
            "date": ev[schemas.EV.date],
            "date_precision": ev[schemas.EV.date_precision],
            "source": [_actor_object(ents.get(ev[schemas.EV.actor_id]), ev[schemas.EV.actor_id])],
            "recipient": [_actor_object(ents.get(target), target)] if target else [],
            "event": [ev[schemas.EV.type]],
            "mode": [ev[schemas.EV.mode]] if ev[schemas.EV.mode] else [],
            "context": ev[schemas.EV.topics],
            "event_loc": loc,
            "event_text": [ev[schemas.EV.evidence]] if ev[schemas.EV.evidence] else [],
            "quad_code": quads.get(ev[schemas.EV.type]),
            "link": ev[schemas.EV.cluster_id],
            "text_info": {
                "sequence": ev[schemas.EV.sentence_id],
                "start": ev[schemas.EV.evidence_start],
                "end": ev[schemas.EV.evidence_end],
                "trigger": ev[schemas.EV.trigger],
                "trigger_start": ev[schemas.EV.trigger_start],
                "trigger_end": ev[schemas.EV.trigger_end],
            },
            "cite_info": {
                "citation": ev[schemas.EV.doc_id],
                "url": doc.get(schemas.DOC.url),
                "title": doc.get(schemas.DOC.title),
                "publication": doc.get(schemas.DOC.source),
                "published": doc.get(schemas.DOC.published),
                "coder": CODER,
            },
            "coder": CODER,
            "confidence": ev[schemas.EV.confidence],
        })
    return out


def plover_json(ds: Dataset) -> bytes:
    """PLOVER JSON Lines (the PLOVER manual's suggested interchange form)."""
    lines = [json.dumps(rec, ensure_ascii=False) for rec in plover_records(ds)]
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")


def _iter_json_records(text: str, label: str) -> Iterable[tuple[int, Any]]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise IngestError(f"not valid JSON: {exc}", label) from exc
        yield from enumerate(data, start=1)
        return
    for i, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                yield i, json.loads(line)
            except ValueError as exc:
                yield i, exc


def _plover_event(c: Collector, rec: dict[str, Any], file: str) -> None:
    event = rec.get("event")
    etype = event[0] if isinstance(event, list) and event else event
    if not isinstance(etype, str) or not etype:
        raise ValueError("no event category")
    sources = rec.get("source") or []
    if not sources or not isinstance(sources, list):
        raise ValueError("no source actor")
    cite = rec.get("cite_info") or {}
    url = cite.get("url")
    published = cite.get("published")
    doc_key = url or cite.get("citation") or f"plover:{rec['id']}"
    doc_id = c.document(
        doc_key, file=file, fmt="plover", title=cite.get("title") or "", url=url,
        published=date.fromisoformat(published) if published else None,
        doc_id=cite.get("citation"),
    )
    if cite.get("publication"):
        c.documents[doc_id][schemas.DOC.source] = cite["publication"]

    def actor(obj: dict[str, Any]) -> str:
        # PLOVER's "code" is an ISO3 country or a non-state code (IGO, NGO, ...).
        code = obj.get("code")
        iso = code if isinstance(code, str) and code in countries().names else None
        name = obj.get("identifier_text") or obj.get("actor_text")
        etype_ = obj.get("entity_type") or (COUNTRY if not name and iso else ORGANIZATION)
        if etype_ not in (PERSON, ORGANIZATION, COUNTRY, LOCATION):
            etype_ = ORGANIZATION
        ent_id = c.entity(str(name or code or "unknown actor"), etype_, iso, doc_id=doc_id,
                          ent_id=obj.get("identifier_id"))
        for alias in obj.get("aliases") or []:
            if alias not in c.entities[ent_id][schemas.ENT.aliases]:
                c.entities[ent_id][schemas.ENT.aliases].append(alias)
        return ent_id

    actor_id = actor(sources[0])
    recipients = rec.get("recipient") or []
    target_id = actor(recipients[0]) if recipients else None
    mode = rec.get("mode")
    mode = mode[0] if isinstance(mode, list) and mode else (mode or None)
    loc = rec.get("event_loc") or {}
    cc3 = loc.get("cc3")
    if cc3 is not None and not (isinstance(cc3, str) and re.fullmatch(schemas.ISO3, cc3)):
        raise ValueError(f"event_loc.cc3 is not an ISO3 code: {cc3!r}")
    text = rec.get("event_text") or []
    info = rec.get("text_info") or {}
    day = rec.get("date")
    precision = rec.get("date_precision")
    if precision not in PRECISIONS:
        precision = "day" if day else "unknown"
    confidence = float(rec.get("confidence", 1.0))
    if not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence {confidence} is outside 0-1")
    c.event({
        schemas.EV.event_id: str(rec["id"]),
        schemas.EV.doc_id: doc_id,
        schemas.EV.sentence_id: int(info.get("sequence") or 0),
        schemas.EV.date: date.fromisoformat(day) if day else None,
        schemas.EV.date_precision: precision,
        schemas.EV.type: etype,
        schemas.EV.mode: mode,
        schemas.EV.actor_id: actor_id,
        schemas.EV.target_id: target_id,
        schemas.EV.location: cc3,
        schemas.EV.place: loc.get("name"),
        schemas.EV.topics: [str(t) for t in rec.get("context") or []],
        schemas.EV.evidence: text[0] if text else "",
        schemas.EV.evidence_start: int(info.get("start") or 0),
        schemas.EV.evidence_end: int(info.get("end") or 0),
        schemas.EV.trigger: info.get("trigger") or "",
        schemas.EV.trigger_start: int(info.get("trigger_start") or 0),
        schemas.EV.trigger_end: int(info.get("trigger_end") or 0),
        schemas.EV.confidence: confidence,
        schemas.EV.cluster_id: rec.get("link") or str(rec["id"]),
    })


def read_plover(sources: Iterable[str | Path]) -> Dataset:
    """Import PLOVER JSON Lines (or a JSON array of PLOVER records) into a Dataset.

    Ids in the records (event id, identifier_id, cite_info.citation) are kept, so a
    store exported with ``plover_json`` comes back with the same ids. Documents have
    empty text: PLOVER carries only the evidence sentence.
    """
    sources = [str(s) for s in sources]
    c = Collector("plover")
    for item in iter_input_files(sources):
        if isinstance(item, IngestError):
            c.error(item)
            continue
        c.files.append(str(item))
        try:
            for label, stream in open_members(item):
                for line, rec in _iter_json_records(stream.read(), label):
                    c.rows += 1
                    if isinstance(rec, Exception):
                        c.row_error(label, line, f"not valid JSON: {rec}")
                    elif not isinstance(rec, dict) or "id" not in rec:
                        c.row_error(label, line, "not a PLOVER record (no id)")
                    else:
                        try:
                            _plover_event(c, rec, label)
                        except (ValueError, TypeError, KeyError, AttributeError) as exc:
                            c.row_error(label, line, f"bad PLOVER record: {exc}")
        except IngestError as exc:
            c.error(exc)
        except OSError as exc:
            c.error(IngestError(f"cannot read: {exc}", item))
    return c.dataset(sources, notes="PLOVER records carry no article text.")


# --- network ----------------------------------------------------------------------


def network_graph(ds: Dataset) -> nx.MultiDiGraph:
    """Entities as nodes, edges frame rows as edges keyed by relation."""
    g = nx.MultiDiGraph(name="Dyad entity network")
    for ent in _records(ds.entities):
        g.add_node(
            ent[schemas.ENT.entity_id],
            label=_xml_text(ent[schemas.ENT.name]),
            name=_xml_text(ent[schemas.ENT.name]),
            type=ent[schemas.ENT.type],
            country=ent[schemas.ENT.country] or "",
            n_mentions=int(ent[schemas.ENT.n_mentions]),
            n_documents=int(ent[schemas.ENT.n_documents]),
        )
    for edge in _records(ds.edges):
        for end in (edge[schemas.EDGE.source_id], edge[schemas.EDGE.target_id]):
            if end not in g:  # never for a valid store; keep the file loadable anyway
                g.add_node(end, label=end, name=end, type="", country="",
                           n_mentions=0, n_documents=0)
        g.add_edge(
            edge[schemas.EDGE.source_id],
            edge[schemas.EDGE.target_id],
            key=edge[schemas.EDGE.relation],
            relation=edge[schemas.EDGE.relation],
            weight=int(edge[schemas.EDGE.weight]),
            event_ids=LIST_SEP.join(edge[schemas.EDGE.event_ids]),
        )
    return g


def network_gexf(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    nx.write_gexf(network_graph(ds), buf)
    return buf.getvalue()


def network_graphml(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    nx.write_graphml(network_graph(ds), buf)
    return buf.getvalue()


# --- followthemoney ---------------------------------------------------------------

FTM_SCHEMA = {PERSON: "Person", ORGANIZATION: "Organization", COUNTRY: "Territory",
              LOCATION: "Address"}


def ftm_entity(ent: dict[str, Any]) -> dict[str, Any]:
    etype = ent[schemas.ENT.type]
    name = ent[schemas.ENT.name]
    aliases = [a for a in ent[schemas.ENT.aliases] if a != name]
    props: dict[str, list[str]] = {"name": [name]}
    if aliases:
        props["alias"] = aliases
    iso2 = countries().iso2.get(ent[schemas.ENT.country] or "")
    if iso2:
        props["country"] = [iso2.lower()]  # FtM countries are lower-case alpha-2
    if etype == PERSON and ent[schemas.ENT.roles]:
        props["position"] = list(ent[schemas.ENT.roles])
    if etype == COUNTRY:
        props["level"] = ["country"]
        if iso2:
            props["territoryCode"] = [iso2.lower()]
    if etype == LOCATION:
        props["full"] = [name]
    return {"id": ent[schemas.ENT.entity_id], "schema": FTM_SCHEMA.get(etype, "LegalEntity"),
            "properties": props}


def entities_ftm(df: pd.DataFrame) -> bytes:
    """Entities as followthemoney JSON lines ({"id", "schema", "properties"})."""
    lines = [json.dumps(ftm_entity(e), ensure_ascii=False) for e in _records(df)]
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")


# --- registry used by the CLI and the dashboard -----------------------------------


@dataclass(frozen=True)
class ExportFormat:
    name: str
    filename: str  # default file name
    mime: str
    render: Callable[[Dataset], bytes]


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("csv", "events.csv", "text/csv",
                     lambda ds: events_csv(ds.events, ds.entities)),
        ExportFormat("json", "events.json", "application/json",
                     lambda ds: events_json(ds.events, ds.entities)),
        ExportFormat("parquet", "events.parquet", "application/vnd.apache.parquet",
                     lambda ds: events_parquet(ds.events)),
        ExportFormat("plover", "events.plover.jsonl", "application/x-ndjson", plover_json),
        ExportFormat("gexf", "network.gexf", "application/xml", network_gexf),
        ExportFormat("graphml", "network.graphml", "application/xml", network_graphml),
        ExportFormat("ftm", "entities.ftm.json", "application/x-ndjson",
                     lambda ds: entities_ftm(ds.entities)),
    )
}


def export(ds: Dataset, fmt: str) -> bytes:
    """Render a dataset in one of FORMATS."""
    from core.errors import ConfigError

    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    return FORMATS[fmt].render(ds)
