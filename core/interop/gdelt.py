"""GDELT 2.0 Events, Mentions and GKG 2.1 files -> the five frames.

GDELT files are tab-separated, without header or quoting, plain or zipped
(``*.export.CSV.zip``, ``*.mentions.CSV.zip``, ``*.gkg.csv.zip``). The kind of a file
is told by its name and, failing that, by the number of columns of its first row
(61 Events, 16 Mentions, 27 GKG).

How GDELT maps onto Dyad's contract:

- Events: one event per row. CAMEO EventCode -> PLOVER type and mode through
  core/resources/cameo_plover.csv (most specific code first, then base, then root);
  CAMEO 01/02 (statements, appeals) have no PLOVER category and are skipped (counted
  in the manifest). Actor1/Actor2 become entities: a name that is a country name is a
  COUNTRY (ISO3), anything else an ORGANIZATION with Actor*CountryCode (a CAMEO code,
  core/resources/cameo_country.csv) as its country. A row without Actor1 is skipped
  (counted): the contract needs an actor. SQLDATE gives the date at day precision;
  ActionGeo_CountryCode (FIPS 10-4, core/resources/fips_iso3.csv) the location and
  ActionGeo_FullName the place. SOURCEURL is the document: one per distinct URL, with
  an empty text (GDELT ships no text), so evidence and trigger are empty too.
  Confidence is 0.5 (GDELT gives none) unless a Mentions file for the event is read
  too: then it is the highest mention Confidence / 100.
- Mentions: one document per distinct MentionIdentifier (published on MentionTimeDate).
  The mentions frame stays empty: GDELT gives character offsets into articles whose
  text it does not ship, so no span could hold ``text[start:end] == mention``.
- GKG: one document per DocumentIdentifier (title from <PAGE_TITLE> in Extras when
  present), PERSON entities from V2Persons/Persons, ORGANIZATION from
  V2Organizations/Organizations, COUNTRY (location type 1) and LOCATION entities from
  Locations (FIPS country codes); entities of one article are linked by CO_MENTION
  edges.

Entity counts: n_mentions is the number of rows (events, GKG name occurrences) naming
the entity, n_documents the number of distinct documents.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO

from core import schemas
from core.errors import ConfigError, IngestError
from core.ids import stable_id
from core.interop.common import (
    Collector,
    countries,
    display_name,
    open_members,
    organization_or_country,
    parse_yyyymmdd,
    read_resource_csv,
)
from core.model import COUNTRY, LOCATION, PERSON
from core.pipeline import Dataset

EVENT_COLUMNS = (
    "GLOBALEVENTID", "SQLDATE", "MonthYear", "Year", "FractionDate",
    "Actor1Code", "Actor1Name", "Actor1CountryCode", "Actor1KnownGroupCode",
    "Actor1EthnicCode", "Actor1Religion1Code", "Actor1Religion2Code",
    "Actor1Type1Code", "Actor1Type2Code", "Actor1Type3Code",
    "Actor2Code", "Actor2Name", "Actor2CountryCode", "Actor2KnownGroupCode",
    "Actor2EthnicCode", "Actor2Religion1Code", "Actor2Religion2Code",
    "Actor2Type1Code", "Actor2Type2Code", "Actor2Type3Code",
    "IsRootEvent", "EventCode", "EventBaseCode", "EventRootCode", "QuadClass",
    "GoldsteinScale", "NumMentions", "NumSources", "NumArticles", "AvgTone",
    "Actor1Geo_Type", "Actor1Geo_FullName", "Actor1Geo_CountryCode", "Actor1Geo_ADM1Code",
    "Actor1Geo_ADM2Code", "Actor1Geo_Lat", "Actor1Geo_Long", "Actor1Geo_FeatureID",
    "Actor2Geo_Type", "Actor2Geo_FullName", "Actor2Geo_CountryCode", "Actor2Geo_ADM1Code",
    "Actor2Geo_ADM2Code", "Actor2Geo_Lat", "Actor2Geo_Long", "Actor2Geo_FeatureID",
    "ActionGeo_Type", "ActionGeo_FullName", "ActionGeo_CountryCode", "ActionGeo_ADM1Code",
    "ActionGeo_ADM2Code", "ActionGeo_Lat", "ActionGeo_Long", "ActionGeo_FeatureID",
    "DATEADDED", "SOURCEURL",
)
MENTION_COLUMNS = (
    "GLOBALEVENTID", "EventTimeDate", "MentionTimeDate", "MentionType", "MentionSourceName",
    "MentionIdentifier", "SentenceID", "Actor1CharOffset", "Actor2CharOffset",
    "ActionCharOffset", "InRawText", "Confidence", "MentionDocLen", "MentionDocTone",
    "MentionDocTranslationInfo", "Extras",
)
GKG_COLUMNS = (
    "GKGRECORDID", "DATE", "SourceCollectionIdentifier", "SourceCommonName",
    "DocumentIdentifier", "Counts", "V2Counts", "Themes", "V2Themes", "Locations",
    "V2Locations", "Persons", "V2Persons", "Organizations", "V2Organizations", "V2Tone",
    "Dates", "GCAM", "SharingImage", "RelatedImages", "SocialImageEmbeds",
    "SocialVideoEmbeds", "Quotations", "AllNames", "Amounts", "TranslationInfo", "Extras",
)
_COL = {name: i for i, name in enumerate(EVENT_COLUMNS)}
_MEN = {name: i for i, name in enumerate(MENTION_COLUMNS)}
_GKG = {name: i for i, name in enumerate(GKG_COLUMNS)}

EVENTS, MENTIONS, GKG = "events", "mentions", "gkg"
KINDS = {len(EVENT_COLUMNS): EVENTS, len(MENTION_COLUMNS): MENTIONS, len(GKG_COLUMNS): GKG}
WIDTHS = {kind: width for width, kind in KINDS.items()}

DEFAULT_CONFIDENCE = 0.5  # GDELT's export carries no per-event confidence
# Entities of one GKG article linked pairwise; beyond this many the pairs are not worth it.
MAX_COMENTION_ENTITIES = 40

_TITLE = re.compile(r"<PAGE_TITLE>(.*?)</PAGE_TITLE>", re.S)


@dataclass(frozen=True)
class Plover:
    type: str | None  # None: the CAMEO code has no PLOVER category
    mode: str | None


@cache
def cameo_table() -> dict[str, Plover]:
    return {
        row["cameo"]: Plover(row["type"] or None, row["mode"] or None)
        for row in read_resource_csv("cameo_plover.csv")
    }


def cameo_to_plover(code: str, base: str = "", root: str = "") -> Plover | None:
    """PLOVER type and mode of a CAMEO event code; None when no code is known."""
    table = cameo_table()
    for c in (code, base, root):
        c = (c or "").strip()
        if c in table:
            return table[c]
    # An unlisted 4-digit code falls back to its 3-digit base, then its root.
    for c in (code[:3], code[:2]) if code else ():
        if c in table:
            return table[c]
    return None


def kind_of(label: str, first_line: str) -> str | None:
    """Events, mentions or GKG, from the file name or the width of the first row."""
    low = label.lower()
    if ".export." in low:
        return EVENTS
    if ".mentions." in low:
        return MENTIONS
    if ".gkg." in low:
        return GKG
    return KINDS.get(len(first_line.rstrip("\r\n").split("\t")))


def _url(value: str) -> str | None:
    return value if value.startswith(("http://", "https://")) else None


class _Reader:
    def __init__(self) -> None:
        self.c = Collector("gdelt")
        self.mention_confidence: dict[str, float] = {}
        self.event_gid: dict[str, str] = {}

    # -- events ----------------------------------------------------------------------
    def _actor(self, cols: list[str], prefix: str, doc_id: str) -> str | None:
        code = cols[_COL[f"{prefix}Code"]].strip()
        name = cols[_COL[f"{prefix}Name"]].strip()
        country = countries().from_cameo(cols[_COL[f"{prefix}CountryCode"]])
        if not name:
            if not code:
                return None
            # A bare country code ("USA") with no name is that country.
            iso = countries().from_cameo(code)
            if iso:
                return self.c.entity("", COUNTRY, iso, doc_id=doc_id)
            name = code
        shown, etype, iso = organization_or_country(name, country)
        return self.c.entity(shown, etype, iso, doc_id=doc_id, alias=name)

    def event_row(self, cols: list[str], file: str, line: int) -> None:
        gid = cols[_COL["GLOBALEVENTID"]].strip()
        if not gid.isdigit():
            return self.c.row_error(file, line, f"GLOBALEVENTID is not a number: {gid!r}")
        try:
            day = parse_yyyymmdd(cols[_COL["SQLDATE"]])
        except ValueError:
            return self.c.row_error(file, line, f"bad SQLDATE {cols[_COL['SQLDATE']]!r}")
        code = cols[_COL["EventCode"]].strip()
        plover = cameo_to_plover(code, cols[_COL["EventBaseCode"]], cols[_COL["EventRootCode"]])
        if plover is None:
            return self.c.row_error(file, line, f"unknown CAMEO event code {code!r}")
        if plover.type is None:
            self.c.skipped["CAMEO 01/02 (statement, appeal): no PLOVER category"] += 1
            return None
        if not (cols[_COL["Actor1Code"]].strip() or cols[_COL["Actor1Name"]].strip()):
            self.c.skipped["no Actor1"] += 1
            return None
        url = cols[_COL["SOURCEURL"]].strip()
        try:
            added = parse_yyyymmdd(cols[_COL["DATEADDED"]])
        except ValueError:
            added = None
        doc_id = self.c.document(
            url or f"gdelt:event:{gid}", file=file, fmt="gdelt", url=_url(url), published=added
        )
        actor = self._actor(cols, "Actor1", doc_id)
        target = self._actor(cols, "Actor2", doc_id)
        ev_id = stable_id("gdelt-event", gid)
        place = cols[_COL["ActionGeo_FullName"]].strip() or None
        self.c.event({
            schemas.EV.event_id: ev_id,
            schemas.EV.doc_id: doc_id,
            schemas.EV.sentence_id: 0,
            schemas.EV.date: day,
            schemas.EV.date_precision: "day",
            schemas.EV.type: plover.type,
            schemas.EV.mode: plover.mode,
            schemas.EV.actor_id: actor,
            schemas.EV.target_id: target if target != actor else None,
            schemas.EV.location: countries().from_fips(cols[_COL["ActionGeo_CountryCode"]]),
            schemas.EV.place: place,
            schemas.EV.topics: [],
            schemas.EV.evidence: "",
            schemas.EV.evidence_start: 0,
            schemas.EV.evidence_end: 0,
            schemas.EV.trigger: "",
            schemas.EV.trigger_start: 0,
            schemas.EV.trigger_end: 0,
            schemas.EV.confidence: DEFAULT_CONFIDENCE,
            schemas.EV.cluster_id: ev_id,
        })
        self.event_gid[ev_id] = gid
        return None

    # -- mentions --------------------------------------------------------------------
    def mention_row(self, cols: list[str], file: str, line: int) -> None:
        gid = cols[_MEN["GLOBALEVENTID"]].strip()
        if not gid.isdigit():
            return self.c.row_error(file, line, f"GLOBALEVENTID is not a number: {gid!r}")
        try:
            when = parse_yyyymmdd(cols[_MEN["MentionTimeDate"]])
        except ValueError:
            bad = cols[_MEN["MentionTimeDate"]]
            return self.c.row_error(file, line, f"bad MentionTimeDate {bad!r}")
        ident = cols[_MEN["MentionIdentifier"]].strip()
        if not ident:
            return self.c.row_error(file, line, "empty MentionIdentifier")
        try:
            conf = float(cols[_MEN["Confidence"]] or 0) / 100.0
        except ValueError:
            return self.c.row_error(file, line, f"bad Confidence {cols[_MEN['Confidence']]!r}")
        if not 0.0 <= conf <= 1.0:
            return self.c.row_error(file, line, f"Confidence out of 0-100: {conf * 100:g}")
        self.c.document(ident, file=file, fmt="gdelt", url=_url(ident), published=when)
        self.mention_confidence[gid] = max(conf, self.mention_confidence.get(gid, 0.0))
        return None

    # -- GKG -------------------------------------------------------------------------
    @staticmethod
    def _names(v2: str, v1: str) -> list[str]:
        """Names of a GKG person/organisation field, one per occurrence."""
        if v2:
            return [item.rsplit(",", 1)[0] for item in v2.split(";") if item]
        return [item for item in v1.split(";") if item]

    def gkg_row(self, cols: list[str], file: str, line: int) -> None:
        rec_id = cols[_GKG["GKGRECORDID"]].strip()
        if not rec_id:
            return self.c.row_error(file, line, "empty GKGRECORDID")
        try:
            when = parse_yyyymmdd(cols[_GKG["DATE"]])
        except ValueError:
            return self.c.row_error(file, line, f"bad DATE {cols[_GKG['DATE']]!r}")
        ident = cols[_GKG["DocumentIdentifier"]].strip()
        if not ident:
            return self.c.row_error(file, line, "empty DocumentIdentifier")
        m = _TITLE.search(cols[_GKG["Extras"]])
        title = " ".join(m.group(1).split()) if m else ""
        is_web = cols[_GKG["SourceCollectionIdentifier"]].strip() == "1"
        doc_id = self.c.document(
            ident, file=file, fmt="gdelt-gkg", title=title,
            url=_url(ident) if is_web else None, published=when,
        )
        found: dict[str, None] = {}  # ordered set of entity ids in this article

        def add(shown: str, etype: str, country: str | None = None, raw: str = "") -> None:
            ent = self.c.entity(shown, etype, country, doc_id=doc_id, alias=raw)
            found[ent] = None

        for name in self._names(cols[_GKG["V2Persons"]], cols[_GKG["Persons"]]):
            add(display_name(name), PERSON, None, name)
        for name in self._names(cols[_GKG["V2Organizations"]], cols[_GKG["Organizations"]]):
            add(*organization_or_country(name, None), name)
        for loc in cols[_GKG["Locations"]].split(";"):
            parts = loc.split("#")
            if len(parts) < 3 or not parts[1]:
                continue
            iso = countries().from_fips(parts[2])
            if parts[0] == "1" and iso:
                add("", COUNTRY, iso)
            elif parts[0] != "1":
                place = parts[1].split(",")[0]
                add(display_name(place), LOCATION, iso, place)
        linked = list(found)[:MAX_COMENTION_ENTITIES]
        for i, a in enumerate(linked):
            for b in linked[i + 1:]:
                self.c.co_mention(a, b)
        return None

    # -- files -----------------------------------------------------------------------
    def read_stream(self, label: str, stream: IO[str], kind: str | None) -> None:
        handlers = {EVENTS: self.event_row, MENTIONS: self.mention_row, GKG: self.gkg_row}
        for line_no, line in enumerate(stream, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            cols = line.split("\t")
            if kind is None:
                kind = kind_of(label, line)
                if kind is None:
                    raise IngestError(
                        f"not a GDELT file: first row has {len(cols)} tab-separated columns "
                        f"(Events have 61, Mentions 16, GKG 27)", label
                    )
            self.c.rows += 1
            if len(cols) != WIDTHS[kind]:
                self.c.row_error(
                    label, line_no, f"{len(cols)} columns, GDELT {kind} rows have {WIDTHS[kind]}"
                )
                continue
            handlers[kind](cols, label, line_no)

    def finish(self) -> None:
        for ev_id, gid in self.event_gid.items():
            if gid in self.mention_confidence and ev_id in self.c.events:
                self.c.events[ev_id][schemas.EV.confidence] = self.mention_confidence[gid]


def read_gdelt(sources: Iterable[str | Path], kind: str | None = None) -> Dataset:
    """Import GDELT files and folders (plain or zipped) into a Dataset.

    ``kind`` forces "events", "mentions" or "gkg"; by default each file's kind is
    told by its name or its width. Bad rows and unreadable files become error
    records ({file, reason, kind, line}) and are skipped.
    """
    if kind is not None and kind not in WIDTHS:
        raise ConfigError(f"GDELT kind must be one of {sorted(WIDTHS)}, not {kind!r}")
    sources = [str(s) for s in sources]
    reader = _Reader()
    for item in reader.c.input_files(sources):
        try:
            for label, stream in open_members(item):
                reader.read_stream(label, stream, kind)
        except IngestError as exc:
            reader.c.error(exc)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            reader.c.error(IngestError(f"cannot read: {exc}", item))
    reader.finish()
    return reader.c.dataset(
        sources,
        notes="GDELT ships no article text: documents have empty text, events empty "
        "evidence, and the mentions frame is empty.",
    )
