"""What the importers share: country crosswalks (FIPS 10-4, CAMEO, ISO numeric, names ->
ISO3, all read from core/resources), stable entity ids, input file opening (plain or
zipped) and the ``Collector`` that accumulates records and turns them into a validated
Dataset. Bad rows become error records and are skipped.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import IO, Any

from core import schemas, yamlio
from core.errors import IngestError
from core.ids import stable_id
from core.model import COUNTRY, ORGANIZATION
from core.pipeline import Dataset, __version__
from core.topics import document_topics

RESOURCES = Path(__file__).resolve().parents[1] / "resources"

# A zip member bigger than this is refused rather than inflated (zip bombs); a GDELT
# 15-minute export is a few MB, a daily one well under 1 GB.
MAX_MEMBER_BYTES = 2 * 1024**3

_SPACES = re.compile(r"\s+")


def name_key(name: str) -> str:
    """Normalised form of a name for lookups and ids: NFKC, casefolded, single spaces."""
    key = _SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip().casefold()
    return key[4:] if key.startswith("the ") else key


def display_name(name: str) -> str:
    """GDELT and GKG shout or whisper names ("UNITED NATIONS", "vladimir putin").

    Names in one case become title case; a single word of up to three letters is taken
    for an acronym ("fbi" -> "FBI"). Longer acronyms come from core/resources/orgs.yaml
    (see ``organization_or_country``).
    """
    name = _SPACES.sub(" ", name).strip()
    letters = [c for c in name if c.isalpha()]
    if not letters:
        return name
    if " " not in name and len(letters) <= 3 and (name.isupper() or name.islower()):
        return name.upper()
    if name.isupper() or name.islower():
        return name.title()
    return name


# --- countries --------------------------------------------------------------------


@dataclass(frozen=True)
class Countries:
    """Crosswalks to ISO 3166-1 alpha-3, built once from core/resources."""

    by_fips: dict[str, str]
    by_numeric: dict[int, str]
    by_cameo: dict[str, str | None]  # None: a CAMEO region code ("EUR", "MEA")
    by_name: dict[str, str]  # name_key -> ISO3
    names: dict[str, str]  # ISO3 -> display name
    iso2: dict[str, str]  # ISO3 -> ISO alpha-2
    pattern: re.Pattern[str]  # finds any known country name inside a longer text

    def from_fips(self, code: str) -> str | None:
        return self.by_fips.get(code.strip().upper()) if code else None

    def from_cameo(self, code: str) -> str | None:
        return self.by_cameo.get(code.strip().upper()) if code else None

    def from_numeric(self, value: str) -> str | None:
        try:
            return self.by_numeric.get(int(float(value)))
        except (TypeError, ValueError):
            return None

    def from_name(self, name: str) -> str | None:
        return self.by_name.get(name_key(name)) if name else None

    def find_in(self, text: str) -> str | None:
        """The country a longer name refers to ("Police Forces of Nigeria (2015-)")."""
        m = self.pattern.search(name_key(text))
        return self.by_name.get(m.group(1)) if m else None


def read_resource_csv(name: str) -> list[dict[str, str]]:
    """Rows of a CSV in core/resources, cells stripped."""
    with open(RESOURCES / name, encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


@cache
def countries() -> Countries:
    by_fips: dict[str, str] = {}
    by_numeric: dict[int, str] = {}
    by_name: dict[str, str] = {}
    names: dict[str, str] = {}
    iso2: dict[str, str] = {}

    def add_name(name: str, iso3: str) -> None:
        key = name_key(name)
        if key and key not in by_name:
            by_name[key] = iso3

    # The project gazetteer comes first: its names are the display names.
    for row in read_resource_csv("countries.csv"):
        iso3 = row.get("iso3", "")
        if not iso3:
            continue
        names[iso3] = row.get("name") or iso3
        add_name(row.get("name", ""), iso3)
        for alias in (row.get("aliases") or "").split("|"):
            add_name(alias, iso3)
    for row in read_resource_csv("fips_iso3.csv"):
        iso3 = row["iso3"]
        by_fips[row["fips"]] = iso3
        iso2.setdefault(iso3, row["iso2"])
        if row["numeric"]:
            by_numeric[int(row["numeric"])] = iso3
        plain = row["name"].split(" (")[0]
        names.setdefault(iso3, plain)
        add_name(plain, iso3)
    by_cameo: dict[str, str | None] = {}
    for row in read_resource_csv("cameo_country.csv"):
        by_cameo[row["cameo"]] = row["iso3"] or None
        if row["iso3"]:
            add_name(row["name"], row["iso3"])
    # Longest names first so "south sudan" wins over "sudan".
    alternation = "|".join(re.escape(k) for k in sorted(by_name, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w])({alternation})(?![\w])")
    return Countries(by_fips, by_numeric, by_cameo, by_name, names, iso2, pattern)


# --- ids ----------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def entity_id(etype: str, name: str, country: str | None = None) -> str:
    """Stable entity id: a country by its ISO3, anything else by type, name and country.

    The same actor read from any file or importer gets the same id.
    """
    if etype == COUNTRY and country:
        return stable_id("entity", COUNTRY, country)
    return stable_id("entity", etype, name_key(name), country or "")


def document_id(source: str) -> str:
    """Stable document id from its source (a URL, or an importer's own key)."""
    return stable_id("doc", source)


# --- input files ------------------------------------------------------------------


def iter_input_files(sources: Iterable[str | Path]) -> Iterator[Path | IngestError]:
    """Files named, and files inside folders named (recursively, sorted)."""
    for src in sources:
        path = Path(src)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            yield path
        else:
            yield IngestError("no such file or folder", path)


def open_members(path: Path) -> Iterator[tuple[str, IO[str]]]:
    """Text streams of a file: itself, or each member of a zip. Raises IngestError."""
    if zipfile.is_zipfile(path):
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise IngestError(f"cannot open zip: {exc}", path) from exc
        with zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                label = f"{path}!{info.filename}"
                if info.file_size > MAX_MEMBER_BYTES:
                    raise IngestError(
                        f"zip member {info.filename} inflates to {info.file_size} bytes "
                        f"(limit {MAX_MEMBER_BYTES})", path
                    )
                try:
                    raw = zf.open(info)
                except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
                    raise IngestError(
                        f"cannot read zip member {info.filename}: {exc}", path
                    ) from exc
                with io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace",
                                      newline="") as text:
                    yield label, text
        return
    if path.suffix.lower() == ".zip":
        raise IngestError("not a valid zip file", path)
    try:
        fh = open(path, encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise IngestError(f"cannot read: {exc.strerror or exc}", path) from exc
    with fh:
        yield str(path), fh


def parse_yyyymmdd(value: str) -> date:
    """GDELT's SQLDATE (YYYYMMDD) or the date part of YYYYMMDDHHMMSS; ValueError if bad."""
    value = value.strip()
    if len(value) not in (8, 14) or not value.isdigit():
        raise ValueError(f"not a YYYYMMDD date: {value!r}")
    # date() checks month and day ranges; strptime would too, at ten times the cost.
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


# --- collecting records into a Dataset ---------------------------------------------


class Collector:
    """Accumulates documents, entities, events and co-mentions, then makes a Dataset.

    Records are deduplicated by id (the first copy wins; later copies only add the
    file they came from), so the same row in two files is one event.
    """

    def __init__(self, importer: str) -> None:
        self.importer = importer
        self.documents: dict[str, dict[str, Any]] = {}
        self.entities: dict[str, dict[str, Any]] = {}
        self._entity_docs: dict[str, set[str]] = defaultdict(set)
        self.events: dict[str, dict[str, Any]] = {}
        self._co: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._co_weight: Counter[tuple[str, str]] = Counter()
        self.errors: list[dict[str, Any]] = []
        self.skipped: Counter[str] = Counter()
        self.files: list[str] = []
        self.rows = 0

    def error(self, exc: IngestError, line: int | None = None) -> None:
        record: dict[str, Any] = exc.to_record()
        if line is not None:
            record["line"] = line
        self.errors.append(record)

    def input_files(self, sources: Iterable[str | Path]) -> Iterator[Path]:
        """The files to read (iter_input_files): each is counted, a missing one recorded."""
        for item in iter_input_files(sources):
            if isinstance(item, IngestError):
                self.error(item)
                continue
            self.files.append(str(item))
            yield item

    def row_error(self, file: str, line: int, reason: str) -> None:
        self.error(IngestError(f"line {line}: {reason}", file), line)

    def document(
        self,
        source: str,
        *,
        file: str,
        fmt: str,
        title: str = "",
        text: str = "",
        url: str | None = None,
        published: date | None = None,
        doc_id: str | None = None,
    ) -> str:
        doc_id = doc_id or document_id(source)
        known = self.documents.get(doc_id)
        if known is None:
            self.documents[doc_id] = {
                schemas.DOC.doc_id: doc_id,
                schemas.DOC.source: source,
                schemas.DOC.sources: [file],
                schemas.DOC.title: title,
                schemas.DOC.published: published,
                schemas.DOC.url: url,
                schemas.DOC.format: fmt,
                schemas.DOC.text: text,
                schemas.DOC.n_words: len(text.split()),
                schemas.DOC.topics: document_topics(text) if text else [],
            }
        else:
            if file not in known[schemas.DOC.sources]:
                known[schemas.DOC.sources].append(file)
            # Keep the richer metadata when copies differ (as build_dataset does).
            known[schemas.DOC.published] = known[schemas.DOC.published] or published
            known[schemas.DOC.url] = known[schemas.DOC.url] or url
            known[schemas.DOC.title] = known[schemas.DOC.title] or title
        return doc_id

    def entity(
        self,
        name: str,
        etype: str,
        country: str | None = None,
        *,
        doc_id: str | None = None,
        alias: str | None = None,
        roles: Iterable[str] = (),
        count: int = 1,
        ent_id: str | None = None,
    ) -> str:
        if etype == COUNTRY and country:
            name = countries().names.get(country, name)
        ent_id = ent_id or entity_id(etype, name, country)
        ent = self.entities.get(ent_id)
        if ent is None:
            ent = self.entities[ent_id] = {
                schemas.ENT.entity_id: ent_id,
                schemas.ENT.name: name,
                schemas.ENT.type: etype,
                schemas.ENT.country: country,
                schemas.ENT.aliases: [],
                schemas.ENT.roles: [],
                schemas.ENT.n_mentions: 0,
                schemas.ENT.n_documents: 0,
            }
        aliases = ent[schemas.ENT.aliases]
        for a in (alias, name):
            if a and a != ent[schemas.ENT.name] and a not in aliases:
                aliases.append(a)
        for role in roles:
            if role and role not in ent[schemas.ENT.roles]:
                ent[schemas.ENT.roles].append(role)
        ent[schemas.ENT.n_mentions] += count
        if doc_id:
            self._entity_docs[ent_id].add(doc_id)
        return ent_id

    def event(self, record: dict[str, Any]) -> bool:
        """Add an event (a dict with every events column); False if its id was seen."""
        ev_id = record[schemas.EV.event_id]
        if ev_id in self.events:
            self.skipped["duplicate event"] += 1
            return False
        record.setdefault(schemas.EV.cluster_id, ev_id)
        self.events[ev_id] = record
        return True

    def co_mention(self, a: str, b: str, event_id: str | None = None) -> None:
        """Two entities seen together (same GKG article, an ACLED actor and its allies)."""
        if a == b:
            return
        pair = (a, b) if a < b else (b, a)
        self._co_weight[pair] += 1
        if event_id and event_id not in self._co[pair]:
            self._co[pair].append(event_id)

    def _edges(self) -> list[dict[str, Any]]:
        grouped: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for ev in self.events.values():
            target = ev[schemas.EV.target_id]
            if target and target != ev[schemas.EV.actor_id]:
                key = (ev[schemas.EV.actor_id], target, ev[schemas.EV.type])
                grouped[key].append(ev[schemas.EV.event_id])
        edges = [
            {
                schemas.EDGE.source_id: s,
                schemas.EDGE.target_id: t,
                schemas.EDGE.relation: rel,
                schemas.EDGE.weight: len(ids),
                schemas.EDGE.event_ids: ids,
            }
            for (s, t, rel), ids in grouped.items()
        ]
        for (a, b), weight in self._co_weight.items():
            edges.append({
                schemas.EDGE.source_id: a,
                schemas.EDGE.target_id: b,
                schemas.EDGE.relation: "CO_MENTION",
                schemas.EDGE.weight: weight,
                schemas.EDGE.event_ids: list(self._co[(a, b)]),
            })
        return edges

    def dataset(self, sources: Iterable[str | Path], notes: str = "") -> Dataset:
        for ent_id, ent in self.entities.items():
            ent[schemas.ENT.n_documents] = len(self._entity_docs.get(ent_id, ()))
        ds = Dataset(
            documents=schemas.to_frame("documents", self.documents.values()),
            mentions=schemas.empty_frame("mentions"),
            entities=schemas.to_frame("entities", self.entities.values()),
            events=schemas.to_frame("events", self.events.values()),
            edges=schemas.to_frame("edges", self._edges()),
            errors=list(self.errors),
        )
        ds.manifest = {
            "version": __version__,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "importer": self.importer,
            "backend": f"import:{self.importer}",
            "sources": [str(s) for s in sources],
            "files": len(self.files),
            "rows": self.rows,
            "counts": ds.counts(),
            "skipped": dict(self.skipped),
            "errors": ds.errors,
            "timings": {},
            "notes": notes,
        }
        return ds


_Org = tuple[str, str | None]  # (preferred name, ISO3 or None)


@cache
def known_organizations() -> tuple[dict[str, _Org], dict[str, _Org]]:
    """The curated organisations of core/resources/orgs.yaml: (by name key, by acronym)."""
    import yaml

    try:
        data = yamlio.safe_load((RESOURCES / "orgs.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}, {}
    by_name: dict[str, _Org] = {}
    by_acronym: dict[str, _Org] = {}
    for org in data.get("organizations") or []:
        if not isinstance(org, dict) or not org.get("name"):
            continue
        value = (str(org["name"]), org.get("country") or None)
        for alias in [org["name"], *(org.get("aliases") or [])]:
            by_name.setdefault(name_key(str(alias)), value)
        for acronym in org.get("acronyms") or []:
            by_acronym.setdefault(str(acronym).upper(), value)
    return by_name, by_acronym


@lru_cache(maxsize=65536)
def organization_or_country(name: str, country: str | None) -> tuple[str, str, str | None]:
    """(display name, type, country) of an actor name from GDELT, GKG or ACLED.

    A country name is a COUNTRY; a curated organisation (orgs.yaml, by name or acronym)
    gets its preferred name and country; anything else is an ORGANIZATION named in
    readable case with the country the source gives.
    """
    iso = countries().from_name(name)
    if iso:
        return countries().names.get(iso, name), COUNTRY, iso
    by_name, by_acronym = known_organizations()
    known = by_name.get(name_key(name))
    if known is None and " " not in name.strip():
        known = by_acronym.get(name.strip().upper())
    if known is not None:
        return known[0], ORGANIZATION, known[1] or country
    return display_name(name), ORGANIZATION, country


__all__ = [
    "Collector",
    "Countries",
    "countries",
    "display_name",
    "document_id",
    "entity_id",
    "iter_input_files",
    "name_key",
    "open_members",
    "organization_or_country",
    "parse_yyyymmdd",
    "read_resource_csv",
]
