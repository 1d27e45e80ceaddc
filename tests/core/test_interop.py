"""Interoperability: GDELT / ACLED / PLOVER in, CSV / JSON / Parquet / PLOVER / GEXF /
GraphML / followthemoney out, through the public functions and the CLI."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

import core
from core import schemas
from core.interop import export as ex
from core.interop.acled import read_acled
from core.interop.gdelt import read_gdelt

# --- sample data written by the tests ------------------------------------------------


def gdelt_event(
    gid: str,
    day: str = "20240115",
    actor1: tuple[str, str, str] = ("RUS", "RUSSIA", "RUS"),
    actor2: tuple[str, str, str] = ("UKR", "UKRAINE", "UKR"),
    code: str = "190",
    fips: str = "UP",
    place: str = "Kyiv, Kyyiv, Misto, Ukraine",
    url: str = "https://news.example.com/a",
) -> str:
    """One GDELT 2.0 Events row (61 tab-separated columns)."""
    cols = [""] * 61
    cols[0:5] = [gid, day, day[:6], day[:4], "2024.0384"]
    cols[5:8] = actor1
    cols[15:18] = actor2
    cols[25:35] = ["1", code, code[:3], code[:2], "4", "-10.0", "10", "2", "10", "-5.2"]
    cols[51:54] = ["4", place, fips]
    cols[59:61] = ["20240115123000", url]
    return "\t".join(cols)


def gdelt_mention(gid: str, url: str, confidence: str = "80") -> str:
    return "\t".join([gid, "20240115120000", "20240115124500", "1", "example.com", url,
                      "2", "10", "40", "25", "1", confidence, "2400", "-3.1", "", ""])


def gkg_row(rec: str, url: str, persons: str, orgs: str, locations: str, title: str) -> str:
    cols = [""] * 27
    cols[0:5] = [rec, "20240115120000", "1", "example.com", url]
    cols[9] = locations
    cols[11] = ";".join(p.rsplit(",", 1)[0] for p in persons.split(";") if p)
    cols[12] = persons
    cols[13] = ";".join(o.rsplit(",", 1)[0] for o in orgs.split(";") if o)
    cols[14] = orgs
    cols[26] = f"<PAGE_TITLE>{title}</PAGE_TITLE>"
    return "\t".join(cols)


ACLED_HEADER = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
    "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,"
    "iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,"
    "source,source_scale,notes,fatalities,tags,timestamp"
)
ACLED_ROWS = [
    # 2: a battle with an associated actor
    'NIG31234,2024-01-15,2024,1,Political violence,Battles,Armed clash,'
    'Military Forces of Nigeria (2023-),Vigilante Group (Nigeria),1,'
    'Boko Haram - Jamaatu Ahli is-Sunnah lid-Dawati wal-Jihad,,2,12,,566,Western Africa,'
    'Nigeria,Borno,Gwoza,,Pulka,11.1,13.9,1,Daily Trust; Premium Times,National,'
    '"On 15 January 2024, the Nigerian army clashed with Boko Haram near Pulka.",4,,1705700000',
    # 3: an air strike known to the week, old-style date
    'UKR9001,16 January 2024,2024,2,Political violence,Explosions/Remote violence,'
    'Air/drone strike,Military Forces of Russia (2000-),,8,Civilians (Ukraine),,7,78,'
    'Civilian targeting,804,Europe,Ukraine,Kyiv,Kyiv,,Kyiv,50.4,30.5,1,Reuters,International,'
    'A Russian drone struck a residential block in Kyiv.,1,,1705700000',
    # 4: a protest
    'UKR9002,2024-01-17,2024,1,Demonstrations,Protests,Peaceful protest,Protesters (Ukraine),,'
    '6,,,0,60,,804,Europe,Ukraine,Lviv,Lviv,,Lviv,49.8,24.0,1,Ukrainska Pravda,National,'
    'Residents protested in Lviv.,0,,1705700000',
    # 5: no PLOVER category
    'UKR9003,2024-01-17,2024,1,Strategic developments,Strategic developments,'
    'Change to group/activity,Military Forces of Ukraine (2019-),,1,,,0,10,,804,Europe,'
    'Ukraine,Lviv,Lviv,,Lviv,49.8,24.0,1,Ukrainska Pravda,National,Reorganisation.,0,,1',
    # 6: a date that does not exist
    'UKR9004,2024-02-30,2024,1,Demonstrations,Protests,Peaceful protest,Protesters (Ukraine),,'
    '6,,,0,60,,804,Europe,Ukraine,Lviv,Lviv,,Lviv,49.8,24.0,1,Ukrainska Pravda,National,'
    'Bad date.,0,,1705700000',
    # 7: a truncated row
    "UKR9005,2024-01-16,2024",
    # 8: an event type ACLED never had
    'UKR9006,2024-01-17,2024,1,Demonstrations,Parades,Parade,Protesters (Ukraine),,'
    '6,,,0,60,,804,Europe,Ukraine,Lviv,Lviv,,Lviv,49.8,24.0,1,Ukrainska Pravda,National,'
    'A parade.,0,,1705700000',
]


@pytest.fixture()
def gdelt_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "gdelt"
    folder.mkdir()
    rows = [
        gdelt_event("1150000001"),
        gdelt_event("1150000002", actor1=("USAGOV", "WHITE HOUSE", "USA"),
                    actor2=("CHN", "CHINA", "CHN"), code="042", fips="CH",
                    place="Beijing, Beijing, China", url="https://news.example.com/b"),
        # same URL as the first row: one document
        gdelt_event("1150000003", code="0874", actor1=("UKRMIL", "UKRAINIAN ARMY", "UKR"),
                    actor2=("", "", ""), url="https://news.example.com/a"),
        gdelt_event("1150000004", code="010"),  # statement: no PLOVER category
        gdelt_event("1150000005", day="20241345"),  # bad date
        "1150000006\t20240115\t202401",  # wrong column count
        gdelt_event("1150000007", actor1=("", "", "")),  # no actor
    ]
    (folder / "20240115120000.export.CSV").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def acled_file(tmp_path: Path) -> Path:
    path = tmp_path / "acled.csv"
    path.write_text("\n".join([ACLED_HEADER, *ACLED_ROWS]) + "\n", encoding="utf-8")
    return path


def ids_hold(ds: core.Dataset) -> None:
    """Every id referenced exists, and the frames hold to the contract."""
    for name, df in ds.frames().items():
        schemas.validate(name, df)
    docs = set(ds.documents[schemas.DOC.doc_id])
    ents = set(ds.entities[schemas.ENT.entity_id])
    assert set(ds.events[schemas.EV.doc_id]) <= docs
    assert set(ds.events[schemas.EV.actor_id]) <= ents
    assert set(ds.events[schemas.EV.target_id].dropna()) <= ents
    assert set(ds.edges[schemas.EDGE.source_id]) | set(ds.edges[schemas.EDGE.target_id]) <= ents
    events = set(ds.events[schemas.EV.event_id])
    assert {e for ids in ds.edges[schemas.EDGE.event_ids] for e in ids} <= events
    assert set(ds.mentions[schemas.MEN.doc_id]) <= docs


def plain(column: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in column]


def entity(ds: core.Dataset, name: str) -> pd.Series:
    rows = ds.entities[ds.entities[schemas.ENT.name] == name]
    assert len(rows) == 1, f"{name!r} not found once in {list(ds.entities[schemas.ENT.name])}"
    return rows.iloc[0]


# --- GDELT -------------------------------------------------------------------------


def test_gdelt_events_map_cameo_actors_places_and_sources(gdelt_dir: Path) -> None:
    ds = read_gdelt([gdelt_dir])
    ids_hold(ds)
    assert len(ds.events) == 3
    by_type = ds.events.set_index(schemas.EV.type)
    # CAMEO 190 -> ASSAULT; 042 "make a visit" -> CONSULT/visit; 0874 -> RETREAT/withdraw
    assert set(by_type.index) == {"ASSAULT", "CONSULT", "RETREAT"}
    assert by_type.loc["CONSULT", schemas.EV.mode] == "visit"
    assert by_type.loc["RETREAT", schemas.EV.mode] == "withdraw"
    # FIPS "CH" is China (not Switzerland), "UP" Ukraine
    assert by_type.loc["CONSULT", schemas.EV.location] == "CHN"
    assert by_type.loc["ASSAULT", schemas.EV.location] == "UKR"
    assert by_type.loc["ASSAULT", schemas.EV.place].startswith("Kyiv")
    assert set(ds.events[schemas.EV.date_precision]) == {"day"}
    assert set(ds.events[schemas.EV.date]) == {pd.Timestamp(2024, 1, 15)}
    # actors: country names become countries, anything else an organisation
    russia, white_house = entity(ds, "Russia"), entity(ds, "White House")
    assert (russia[schemas.ENT.type], russia[schemas.ENT.country]) == ("COUNTRY", "RUS")
    assert (white_house[schemas.ENT.type], white_house[schemas.ENT.country]) == (
        "ORGANIZATION", "USA")
    assert by_type.loc["ASSAULT", schemas.EV.actor_id] == russia[schemas.ENT.entity_id]
    assert pd.isna(by_type.loc["RETREAT", schemas.EV.target_id])
    # one document per distinct SOURCEURL, kept as source and url
    assert sorted(ds.documents[schemas.DOC.source]) == [
        "https://news.example.com/a", "https://news.example.com/b"]
    assert list(ds.documents[schemas.DOC.url]) == list(ds.documents[schemas.DOC.source])
    # an edge per actor-target-type
    rel = set(zip(ds.edges[schemas.EDGE.source_id], ds.edges[schemas.EDGE.relation], strict=True))
    assert (russia[schemas.ENT.entity_id], "ASSAULT") in rel
    assert ds.manifest["importer"] == "gdelt"


def test_gdelt_bad_rows_are_reported_with_file_and_line_and_skipped(gdelt_dir: Path) -> None:
    ds = read_gdelt([gdelt_dir])
    by_line = {e["line"]: e for e in ds.errors}
    assert set(by_line) == {5, 6}
    assert "SQLDATE" in by_line[5]["reason"] and "20241345" in by_line[5]["reason"]
    assert "3 columns" in by_line[6]["reason"]
    assert all(e["file"].endswith(".export.CSV") for e in ds.errors)
    skipped = ds.manifest["skipped"]
    assert sum(n for reason, n in skipped.items() if "PLOVER" in reason) == 1
    assert skipped.get("no Actor1") == 1


def test_gdelt_zipped_export_reads_like_the_plain_file(gdelt_dir: Path, tmp_path: Path) -> None:
    plain = gdelt_dir / "20240115120000.export.CSV"
    zipped = tmp_path / "20240115120000.export.CSV.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(plain, plain.name)
    a, b = read_gdelt([plain]), read_gdelt([zipped])
    assert list(a.events[schemas.EV.event_id]) == list(b.events[schemas.EV.event_id])
    assert list(a.entities[schemas.ENT.entity_id]) == list(b.entities[schemas.ENT.entity_id])
    assert [e["line"] for e in b.errors] == [5, 6]
    assert all("!20240115120000.export.CSV" in e["file"] for e in b.errors)


def test_the_same_actor_in_two_files_has_one_stable_id(tmp_path: Path) -> None:
    one, two = tmp_path / "one.export.CSV", tmp_path / "two.export.CSV"
    one.write_text(gdelt_event("1") + "\n", encoding="utf-8")
    two.write_text(gdelt_event("2", actor2=("NGACOP", "POLICE", "NGA"), fips="NI",
                               url="https://news.example.com/z") + "\n", encoding="utf-8")
    both = read_gdelt([one, two])
    assert len(both.events) == 2
    assert both.events[schemas.EV.actor_id].nunique() == 1  # Russia twice
    again = read_gdelt([two])
    assert entity(again, "Russia")[schemas.ENT.entity_id] == entity(both, "Russia")[
        schemas.ENT.entity_id]
    police = entity(both, "Police")
    assert (police[schemas.ENT.type], police[schemas.ENT.country]) == ("ORGANIZATION", "NGA")
    assert entity(both, "Russia")[schemas.ENT.n_documents] == 2


def test_gdelt_mentions_add_documents_and_set_event_confidence(
    gdelt_dir: Path, tmp_path: Path
) -> None:
    mentions = tmp_path / "20240115120000.mentions.CSV"
    mentions.write_text("\n".join([
        gdelt_mention("1150000001", "https://other.example.org/x", "90"),
        gdelt_mention("1150000001", "https://third.example.net/y", "40"),
        gdelt_mention("nope", "https://bad.example.net/", "40"),
    ]) + "\n", encoding="utf-8")
    alone = read_gdelt([gdelt_dir])
    ds = read_gdelt([gdelt_dir, mentions])
    ids_hold(ds)
    assert len(ds.documents) == len(alone.documents) + 2
    assert len(ds.mentions) == 0
    conf = dict(zip(ds.events[schemas.EV.type], ds.events[schemas.EV.confidence], strict=True))
    assert conf["ASSAULT"] == pytest.approx(0.9)  # the best mention's confidence
    assert conf["CONSULT"] == pytest.approx(alone.events[schemas.EV.confidence].iloc[0])
    assert any(e["file"] == str(mentions) and e["line"] == 3 for e in ds.errors)


def test_gkg_records_become_documents_people_organisations_and_co_mentions(
    tmp_path: Path,
) -> None:
    gkg = tmp_path / "20240115120000.gkg.csv"
    gkg.write_text("\n".join([
        gkg_row("20240115120000-1", "https://news.example.com/g1",
                "volodymyr zelensky,120;antony blinken,300;volodymyr zelensky,800",
                "united nations,40;nato,500",
                "1#Ukraine#UP#UP#49#32#UP;4#Kyiv, Kyyiv, Misto, Ukraine#UP#UP12#50.4#30.5#-1",
                "Zelensky meets Blinken in Kyiv"),
        gkg_row("20240115120000-2", "https://news.example.com/g2", "antony blinken,5", "",
                "1#China#CH#CH#35#105#CH", "Blinken to visit Beijing"),
    ]) + "\n", encoding="utf-8")
    ds = read_gdelt([gkg])
    ids_hold(ds)
    assert sorted(ds.documents[schemas.DOC.title]) == [
        "Blinken to visit Beijing", "Zelensky meets Blinken in Kyiv"]
    zelensky, blinken = entity(ds, "Volodymyr Zelensky"), entity(ds, "Antony Blinken")
    assert zelensky[schemas.ENT.type] == "PERSON"
    assert zelensky[schemas.ENT.n_mentions] == 2 and zelensky[schemas.ENT.n_documents] == 1
    assert blinken[schemas.ENT.n_documents] == 2
    assert entity(ds, "NATO")[schemas.ENT.type] == "ORGANIZATION"
    assert entity(ds, "China")[schemas.ENT.country] == "CHN"
    assert entity(ds, "Kyiv")[schemas.ENT.type] == "LOCATION"
    co = ds.edges[ds.edges[schemas.EDGE.relation] == "CO_MENTION"]
    pairs = {frozenset(p) for p in zip(co[schemas.EDGE.source_id], co[schemas.EDGE.target_id],
                                       strict=True)}
    assert frozenset((zelensky[schemas.ENT.entity_id], blinken[schemas.ENT.entity_id])) in pairs
    assert len(ds.events) == 0


def test_a_file_that_is_not_gdelt_is_one_error_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("just\tsome\ttext\n", encoding="utf-8")
    broken_zip = tmp_path / "x.export.CSV.zip"
    broken_zip.write_bytes(b"PK\x03\x04 not really a zip")
    ds = read_gdelt([bad, broken_zip, tmp_path / "missing.CSV"])
    assert len(ds.events) == 0
    files = [e["file"] for e in ds.errors]
    assert files == [str(bad), str(broken_zip), str(tmp_path / "missing.CSV")]
    assert "61" in ds.errors[0]["reason"]


# --- ACLED -------------------------------------------------------------------------


def test_acled_rows_map_to_plover_places_dates_and_sources(tmp_path: Path) -> None:
    ds = read_acled([acled_file(tmp_path)])
    ids_hold(ds)
    assert len(ds.events) == 3
    ev = ds.events.set_index(schemas.EV.mode)
    assert ev.loc["firearms", schemas.EV.type] == "ASSAULT"  # Battles / Armed clash
    assert ev.loc["aerial", schemas.EV.type] == "ASSAULT"  # Air/drone strike
    assert ev.loc["demo", schemas.EV.type] == "PROTEST"
    assert ev.loc["firearms", schemas.EV.location] == "NGA"  # iso 566
    assert ev.loc["firearms", schemas.EV.place] == "Pulka, Borno"
    assert ev.loc["aerial", schemas.EV.date] == pd.Timestamp(2024, 1, 16)  # "16 January 2024"
    assert ev.loc["aerial", schemas.EV.date_precision] == "month"  # time_precision 2
    assert ev.loc["firearms", schemas.EV.date_precision] == "day"
    # notes are the evidence and the document text; source is kept
    docs = ds.documents.set_index(schemas.DOC.doc_id)
    for _, row in ds.events.iterrows():
        text = docs.loc[row[schemas.EV.doc_id], schemas.DOC.text]
        assert text[row[schemas.EV.evidence_start]:row[schemas.EV.evidence_end]] == row[
            schemas.EV.evidence]
    assert "Daily Trust; Premium Times" in set(ds.documents[schemas.DOC.source])
    army = entity(ds, "Military Forces of Nigeria (2023-)")
    assert (army[schemas.ENT.type], army[schemas.ENT.country]) == ("ORGANIZATION", "NGA")
    assert ev.loc["firearms", schemas.EV.actor_id] == army[schemas.ENT.entity_id]
    assert ds.manifest["importer"] == "acled"


def test_acled_bad_rows_are_reported_and_skipped(tmp_path: Path) -> None:
    path = acled_file(tmp_path)
    ds = read_acled([path])
    reasons = {e["line"]: e["reason"] for e in ds.errors}
    assert set(reasons) == {6, 7, 8}
    assert "2024-02-30" in reasons[6]
    assert "fewer columns" in reasons[7]
    assert "Parades" in reasons[8]
    assert all(e["file"] == str(path) for e in ds.errors)
    assert sum(ds.manifest["skipped"].values()) == 1  # the strategic development


def test_acled_associated_actors_are_linked_to_their_actor(tmp_path: Path) -> None:
    ds = read_acled([acled_file(tmp_path)])
    army = entity(ds, "Military Forces of Nigeria (2023-)")[schemas.ENT.entity_id]
    vigilantes = entity(ds, "Vigilante Group (Nigeria)")[schemas.ENT.entity_id]
    co = ds.edges[ds.edges[schemas.EDGE.relation] == "CO_MENTION"]
    assert len(co) == 1
    assert {co.iloc[0][schemas.EDGE.source_id], co.iloc[0][schemas.EDGE.target_id]} == {
        army, vigilantes}
    battle = ds.events[ds.events[schemas.EV.mode] == "firearms"][schemas.EV.event_id].iloc[0]
    assert co.iloc[0][schemas.EDGE.event_ids] == [battle]


def test_a_csv_that_is_not_acled_names_the_missing_column(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("title,body\nHello,World\n", encoding="utf-8")
    ds = read_acled([other])
    assert len(ds.events) == 0
    assert ds.errors[0]["file"] == str(other) and "event_date" in ds.errors[0]["reason"]


def test_mapping_tables_use_the_event_lexicons_types_and_modes() -> None:
    """CAMEO and ACLED rows must land on types and modes the extractor also produces."""
    import yaml

    from core.interop.common import RESOURCES, read_resource_csv

    lexicon = yaml.safe_load((RESOURCES / "plover.yaml").read_text(encoding="utf-8"))
    types = lexicon["types"]
    for table in ("cameo_plover.csv", "acled_plover.csv"):
        for row in read_resource_csv(table):
            if row["type"]:
                assert row["type"] in types, (table, row)
                assert not row["mode"] or row["mode"] in types[row["type"]]["modes"], (table, row)


# --- exports -------------------------------------------------------------------------


def synthetic() -> core.Dataset:
    """A small dataset built by hand through the contract."""
    text = "Erdogan met Putin in Sochi. =cmd|' /C calc'!A0 said NATO."
    docs = [{
        "doc_id": "d1", "source": "news/a.txt", "sources": ["news/a.txt"], "title": "Talks",
        "published": date(2024, 3, 1), "url": "https://news.example.com/a", "format": "txt",
        "text": text, "n_words": len(text.split()), "topics": [],
    }]
    ents = [
        {"entity_id": "e1", "name": "Recep Tayyip Erdoğan", "type": "PERSON", "country": "TUR",
         "aliases": ["Erdogan"], "roles": ["President"], "n_mentions": 1, "n_documents": 1},
        {"entity_id": "e2", "name": "Vladimir Putin", "type": "PERSON", "country": "RUS",
         "aliases": ["Putin"], "roles": [], "n_mentions": 1, "n_documents": 1},
        {"entity_id": "e3", "name": "@NATO\x01", "type": "ORGANIZATION", "country": None,
         "aliases": [], "roles": [], "n_mentions": 1, "n_documents": 1},
        {"entity_id": "e4", "name": "Türkiye", "type": "COUNTRY", "country": "TUR",
         "aliases": ["Turkey"], "roles": [], "n_mentions": 0, "n_documents": 0},
        {"entity_id": "e5", "name": "Sochi", "type": "LOCATION", "country": "RUS",
         "aliases": [], "roles": [], "n_mentions": 1, "n_documents": 1},
    ]
    mentions = [
        {"mention_id": "m1", "doc_id": "d1", "entity_id": "e1", "text": "Erdogan",
         "label": "PERSON", "start": 0, "end": 7, "sentence_id": 0, "role": None},
        {"mention_id": "m2", "doc_id": "d1", "entity_id": "e2", "text": "Putin",
         "label": "PERSON", "start": 12, "end": 17, "sentence_id": 0, "role": None},
    ]
    base = {
        "doc_id": "d1", "sentence_id": 0, "date_precision": "day", "topics": ["diplomacy"],
        "evidence_start": 0, "evidence_end": 27, "evidence": text[:27],
        "trigger": "met", "trigger_start": 8, "trigger_end": 11, "confidence": 0.8,
    }
    events = [
        {**base, "event_id": "v1", "date": date(2024, 3, 1), "type": "CONSULT", "mode": "visit",
         "actor_id": "e1", "target_id": "e2", "location": "RUS", "place": "Sochi",
         "cluster_id": "v1"},
        {**base, "event_id": "v2", "date": None, "date_precision": "unknown", "type": "ACCUSE",
         "mode": None, "actor_id": "e3", "target_id": None, "location": None, "place": None,
         "evidence": text[28:], "evidence_start": 28, "evidence_end": len(text),
         "trigger": "said", "trigger_start": 47, "trigger_end": 51, "topics": [],
         "cluster_id": "v2"},
    ]
    edges = [
        {"source_id": "e1", "target_id": "e2", "relation": "CONSULT", "weight": 1,
         "event_ids": ["v1"]},
        {"source_id": "e1", "target_id": "e2", "relation": "CO_MENTION", "weight": 2,
         "event_ids": []},
    ]
    return core.Dataset(
        documents=schemas.to_frame("documents", docs),
        mentions=schemas.to_frame("mentions", mentions),
        entities=schemas.to_frame("entities", ents),
        events=schemas.to_frame("events", events),
        edges=schemas.to_frame("edges", edges),
    )


def test_csv_export_neutralises_formula_cells() -> None:
    ds = synthetic()
    rows = list(csv.DictReader(io.StringIO(ex.events_csv(ds.events, ds.entities).decode())))
    accuse = next(r for r in rows if r["event_id"] == "v2")
    assert accuse["evidence"].startswith("'=cmd")  # would run as a formula otherwise
    assert accuse["actor_name"].startswith("'@NATO")
    consult = next(r for r in rows if r["event_id"] == "v1")
    assert consult["evidence"] == "Erdogan met Putin in Sochi."  # ordinary text untouched
    assert consult["actor_name"] == "Recep Tayyip Erdoğan"
    entities = ex.frame_csv(ds.entities).decode()
    assert "'@NATO" in entities and "\n@NATO" not in entities


def test_csv_json_and_parquet_exports_read_back_with_the_same_events() -> None:
    ds = synthetic()
    ids = list(ds.events[schemas.EV.event_id])
    from_csv = pd.read_csv(io.BytesIO(ex.events_csv(ds.events)), keep_default_na=False)
    assert list(from_csv[schemas.EV.event_id]) == ids
    assert list(from_csv[schemas.EV.date]) == ["2024-03-01", ""]
    assert list(from_csv[schemas.EV.topics]) == ["diplomacy", ""]
    records = json.loads(ex.events_json(ds.events))
    assert [r["event_id"] for r in records] == ids
    assert records[0]["topics"] == ["diplomacy"] and records[1]["date"] is None
    back = schemas.validate("events", pd.read_parquet(io.BytesIO(ex.events_parquet(ds.events))))
    pd.testing.assert_frame_equal(back, ds.events)


def test_network_exports_open_in_networkx_with_attributes() -> None:
    ds = synthetic()
    for data, read in ((ex.network_gexf(ds), nx.read_gexf),
                       (ex.network_graphml(ds), nx.read_graphml)):
        g = read(io.BytesIO(data))
        assert g.number_of_nodes() == len(ds.entities)
        assert g.number_of_edges() == len(ds.edges)
        node = g.nodes["e1"]
        assert (node["name"], node["type"], node["country"]) == (
            "Recep Tayyip Erdoğan", "PERSON", "TUR")
        assert g.nodes["e3"]["name"] == "@NATO"  # control character dropped, file still valid
        relations = {(d["relation"], float(d["weight"])) for _, _, d in g.edges(data=True)}
        assert relations == {("CONSULT", 1.0), ("CO_MENTION", 2.0)}


def test_entities_export_as_followthemoney() -> None:
    lines = ex.entities_ftm(synthetic().entities).decode().splitlines()
    ents = {e["id"]: e for e in map(json.loads, lines)}
    assert {e["schema"] for e in ents.values()} == {
        "Person", "Organization", "Territory", "Address"}
    erdogan = ents["e1"]
    assert erdogan["schema"] == "Person"
    assert erdogan["properties"]["name"] == ["Recep Tayyip Erdoğan"]
    assert erdogan["properties"]["alias"] == ["Erdogan"]
    assert erdogan["properties"]["country"] == ["tr"]
    assert erdogan["properties"]["position"] == ["President"]
    assert ents["e4"]["properties"]["territoryCode"] == ["tr"]
    assert "country" not in ents["e3"]["properties"]


def test_plover_export_round_trips_counts_and_ids(tmp_path: Path) -> None:
    ds = synthetic()
    data = ex.plover_json(ds)
    records = [json.loads(line) for line in data.decode().splitlines()]
    consult = records[0]
    assert consult["event"] == ["CONSULT"] and consult["mode"] == ["visit"]
    assert consult["date"] == "2024-03-01" and consult["quad_code"] == 1
    assert consult["source"][0]["identifier_id"] == "e1"
    assert consult["recipient"][0]["actor_text"] == "Vladimir Putin"
    assert consult["event_loc"] == {"cc3": "RUS", "name": "Sochi"}
    assert consult["event_text"] == ["Erdogan met Putin in Sochi."]
    path = tmp_path / "events.plover.jsonl"
    path.write_bytes(data)
    back = ex.read_plover([path])
    ids_hold(back)
    assert back.errors == []
    for col in (schemas.EV.event_id, schemas.EV.type, schemas.EV.mode, schemas.EV.actor_id,
                schemas.EV.target_id, schemas.EV.date, schemas.EV.location,
                schemas.EV.evidence, schemas.EV.confidence):
        assert plain(back.events[col]) == plain(ds.events[col]), col
    assert list(back.events[schemas.EV.doc_id]) == ["d1", "d1"]
    used = {"e1", "e2", "e3"}
    assert set(back.entities[schemas.ENT.entity_id]) == used
    assert entity(back, "Vladimir Putin")[schemas.ENT.country] == "RUS"
    assert set(back.edges[schemas.EDGE.relation]) == {"CONSULT"}


def test_imports_round_trip_through_plover_and_keep_ids(gdelt_dir: Path, tmp_path: Path) -> None:
    ds = read_acled([acled_file(tmp_path)])
    gd = read_gdelt([gdelt_dir])
    for original in (ds, gd):
        path = tmp_path / f"{original.manifest['importer']}.jsonl"
        path.write_bytes(ex.plover_json(original))
        back = ex.read_plover([path])
        assert sorted(back.events[schemas.EV.event_id]) == sorted(
            original.events[schemas.EV.event_id])
        used = set(original.events[schemas.EV.actor_id]) | set(
            original.events[schemas.EV.target_id].dropna())
        assert set(back.entities[schemas.ENT.entity_id]) == used
        assert set(back.documents[schemas.DOC.doc_id]) == set(original.events[schemas.EV.doc_id])


def test_every_format_exports_the_seed_store(seeds_dir: Path) -> None:
    built = core.build_dataset([seeds_dir])
    for fmt in ex.FORMATS:
        data = ex.export(built, fmt)
        assert isinstance(data, bytes)
    g = nx.read_graphml(io.BytesIO(ex.network_graphml(built)))
    assert g.number_of_nodes() == len(built.entities)
    assert len(ex.entities_ftm(built.entities).splitlines()) == len(built.entities)


def test_broken_plover_lines_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    good = json.loads(ex.plover_json(synthetic()).decode().splitlines()[0])
    bad_place = {**good, "id": "w", "event_loc": {"cc3": "Russia"}}
    bad_date = {**good, "id": "y", "date": "2024-13-01"}
    lines = [good, "{not json", {"id": "z"}, bad_place, bad_date]
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
                    encoding="utf-8")
    ds = ex.read_plover([path])
    assert list(ds.events[schemas.EV.event_id]) == [good["id"]]
    assert [e["line"] for e in ds.errors] == [2, 3, 4, 5]
    assert "Russia" in ds.errors[2]["reason"]


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_neutralised(cell: str) -> None:
    assert ex.neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["1-2", "a=b", "Erdoğan", "", 5, None])
def test_ordinary_cells_are_left_alone(cell: object) -> None:
    assert ex.neutralise(cell) == cell


# --- CLI ---------------------------------------------------------------------------


def run_cli(argv: list[str]) -> int:
    """Through core.cli when it has the import/export commands, else core.interop.cli."""
    from core import cli
    from core.interop import cli as interop_cli

    try:
        cli.make_parser().parse_args(["export", "x", "--format", "csv"])
    except SystemExit:
        return interop_cli.main(argv)
    return cli.main(argv)


def test_cli_imports_a_store_the_dashboard_opens_and_exports_it(
    gdelt_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    assert run_cli(["import", "gdelt", str(gdelt_dir), "--out", str(store)]) == 0
    err = capsys.readouterr().err
    assert "imported 2 documents" in err and "3 events" in err
    assert "line 5" in err and "Traceback" not in err
    ds = core.load_dataset(store)
    assert ds.manifest["importer"] == "gdelt" and len(ds.events) == 3
    assert ds.manifest["counts"] == ds.counts()
    for fmt, spec in ex.FORMATS.items():
        assert run_cli(["export", str(store), "--format", fmt, "--out", str(tmp_path)]) == 0
        assert (tmp_path / spec.filename).stat().st_size > 0
    g = nx.read_gexf(tmp_path / "network.gexf")
    assert g.number_of_nodes() == len(ds.entities)
    out = tmp_path / "x" / "events.csv"
    assert run_cli(["export", str(store), "--format", "csv", "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 3


def test_cli_acled_import_and_nothing_importable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "acled-store"
    assert run_cli(["import", "acled", str(acled_file(tmp_path)), "--out", str(store)]) == 0
    assert core.load_dataset(store).manifest["importer"] == "acled"
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    assert run_cli(["import", "acled", str(other), "--out", str(tmp_path / "none")]) == 2
    assert not (tmp_path / "none").exists()
    assert "event_date" in capsys.readouterr().err
    assert run_cli(["export", str(tmp_path / "none"), "--format", "csv"]) == 1


def test_the_plover_manuals_minimal_record_imports(tmp_path: Path) -> None:
    path = tmp_path / "minimal.jsonl"
    path.write_text(json.dumps({"id": "PHOXv1-20160724-0042", "date": "2016-07-24",
                                "source": [{"code": "USA"}], "recipient": [{"code": "CAN"}],
                                "event": ["AGREE", "CONSULT"]}) + "\n", encoding="utf-8")
    ds = ex.read_plover([path])
    ids_hold(ds)
    assert list(ds.events[schemas.EV.type]) == ["AGREE"]
    assert sorted(ds.entities[schemas.ENT.name]) == ["Canada", "United States"]
    assert set(ds.entities[schemas.ENT.type]) == {"COUNTRY"}
