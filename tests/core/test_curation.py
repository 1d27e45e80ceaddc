"""Curation: analysts' corrections are an append-only log replayed over every load."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pandas as pd
import pytest

import core
from core import curation, graph, schemas
from core.curation import CorrectionLog, CurationError, apply, load_curated, normalise_name
from core.model import (
    COUNTRY,
    LOCATION,
    ORGANIZATION,
    PERSON,
    AnnotatedDocument,
    Document,
    Event,
    Mention,
)
from core.schemas import EDGE, ENT, EV, MEN

# ---------------------------------------------------------------- a synthetic build

DOCS = {
    "d1": ["Ibrahim Kalın met Hakan Fidan in Ankara.", "Kalın later accused Israel.",
           "H. Fidan visited Cairo."],
    "d2": ["Hakan Fidan met Kalın.", "Kalın thanked H. Fidan."],
}
NEW_DOC = {"d3": ["Ibrahim Kalin called H. Fidan."]}  # arrives with a rebuild

ENTITIES = {  # key -> name, type, country, aliases
    "kalin": ("Ibrahim Kalın", PERSON, "TUR", ["Kalın"]),
    "fidan": ("Hakan Fidan", PERSON, "TUR", []),
    "hfidan": ("H. Fidan", PERSON, None, []),
    "ankara": ("Ankara", LOCATION, "TUR", []),
    "israel": ("Israel", COUNTRY, "ISR", []),
    "cairo": ("Cairo", LOCATION, "EGY", []),
}
MENTIONS = [  # doc, sentence, surface form, entity key
    ("d1", 0, "Ibrahim Kalın", "kalin"), ("d1", 0, "Hakan Fidan", "fidan"),
    ("d1", 0, "Ankara", "ankara"), ("d1", 1, "Kalın", "kalin"), ("d1", 1, "Israel", "israel"),
    ("d1", 2, "H. Fidan", "hfidan"), ("d1", 2, "Cairo", "cairo"),
    ("d2", 0, "Hakan Fidan", "fidan"), ("d2", 0, "Kalın", "kalin"),
    ("d2", 1, "Kalın", "kalin"), ("d2", 1, "H. Fidan", "hfidan"),
    ("d3", 0, "Ibrahim Kalin", "kalin"), ("d3", 0, "H. Fidan", "hfidan"),
]
EVENTS = [  # id, doc, sentence, type, actor, target
    ("ev1", "d1", 0, "CONSULT", "kalin", "fidan"),
    ("ev2", "d1", 1, "ACCUSE", "kalin", "israel"),
    ("ev3", "d1", 2, "CONSULT", "hfidan", "cairo"),
    ("ev4", "d2", 0, "CONSULT", "fidan", "kalin"),
    ("ev6", "d2", 0, "MAKE_STATEMENT", "fidan", None),
    ("ev5", "d3", 0, "CONSULT", "kalin", "hfidan"),
]


def make_ds(prefix: str = "", rebuilt: bool = False, without: tuple[str, ...] = ()) -> core.Dataset:
    """A small build; ``prefix`` changes every entity id (as a rebuild may), ``rebuilt``
    adds a new article and the resolver's new spelling "Ibrahim Kalin"."""
    docs = dict(DOCS, **NEW_DOC) if rebuilt else DOCS
    names = dict(ENTITIES)
    if rebuilt:
        names["kalin"] = ("Ibrahim Kalin", PERSON, "TUR", ["Kalın"])
    keys = [k for k in names if k not in without]

    def eid(k: str) -> str:
        return f"{prefix}{k}"

    doc_rows, spans = [], {}
    for doc_id, sents in docs.items():
        text, starts = "", []
        for s in sents:
            starts.append(len(text))
            text += s + " "
        spans[doc_id] = (text, starts)
        doc_rows.append({"doc_id": doc_id, "source": f"{doc_id}.txt", "sources": [f"{doc_id}.txt"],
                         "title": doc_id, "published": "2025-07-09", "url": None, "format": "txt",
                         "text": text, "n_words": len(text.split()), "topics": []})
    men_rows = []
    for doc_id, sid, surface, key in MENTIONS:
        if doc_id not in docs or key not in keys:
            continue
        text, starts = spans[doc_id]
        start = text.index(surface, starts[sid])
        men_rows.append({"mention_id": f"m{len(men_rows)}", "doc_id": doc_id,
                         "entity_id": eid(key), "text": surface, "label": names[key][1],
                         "start": start, "end": start + len(surface), "sentence_id": sid,
                         "role": None})
    men = pd.DataFrame(men_rows)
    ent_rows = []
    for k in keys:
        name, type_, country, aliases = names[k]
        mine = men[men["entity_id"] == eid(k)]
        ent_rows.append({"entity_id": eid(k), "name": name, "type": type_, "country": country,
                         "aliases": aliases, "roles": [], "n_mentions": len(mine),
                         "n_documents": mine["doc_id"].nunique()})
    ev_rows = []
    for ev_id, doc_id, sid, type_, actor, target in EVENTS:
        if doc_id not in docs or actor not in keys:
            continue
        text, starts = spans[doc_id]
        sent = docs[doc_id][sid]
        ev_rows.append({
            "event_id": ev_id, "doc_id": doc_id, "sentence_id": sid, "date": "2025-07-09",
            "date_precision": "day", "type": type_, "mode": None, "actor_id": eid(actor),
            "target_id": eid(target) if target in keys else None, "location": None,
            "place": None, "topics": [], "evidence": sent, "evidence_start": starts[sid],
            "evidence_end": starts[sid] + len(sent), "trigger": sent.split()[2],
            "trigger_start": starts[sid], "trigger_end": starts[sid] + 1, "confidence": 0.9,
            "cluster_id": ev_id,
        })
    # Edges as the pipeline's graph stage makes them.
    annotated = [
        AnnotatedDocument(Document(r["doc_id"], r["source"], r["title"], r["text"]), [],
                          [Mention(**m) for m in men_rows if m["doc_id"] == r["doc_id"]])
        for r in doc_rows
    ]
    edge_rows = graph.build_edges([Event(**r) for r in ev_rows], annotated)
    return core.Dataset(
        documents=schemas.to_frame("documents", doc_rows),
        mentions=schemas.to_frame("mentions", men_rows),
        entities=schemas.to_frame("entities", ent_rows),
        events=schemas.to_frame("events", ev_rows),
        edges=schemas.to_frame("edges", edge_rows),
    )


@pytest.fixture
def ds() -> core.Dataset:
    return make_ds()


@pytest.fixture
def log(tmp_path: Path) -> CorrectionLog:
    return CorrectionLog(tmp_path)


def curated(log: CorrectionLog, ds: core.Dataset) -> tuple[core.Dataset, list[str]]:
    entries, problems = log.entries()
    assert problems == []
    return apply(ds, entries)


def entity_named(ds: core.Dataset, name: str) -> pd.Series:
    rows = ds.entities[ds.entities[ENT.name] == name]
    assert len(rows) == 1, f"{name!r} appears {len(rows)} times"
    return rows.iloc[0]


def ids_referenced(ds: core.Dataset) -> set[str]:
    return (set(ds.mentions[MEN.entity_id]) | set(ds.events[EV.actor_id])
            | set(ds.events[EV.target_id].dropna()) | set(ds.edges[EDGE.source_id])
            | set(ds.edges[EDGE.target_id]))


def edge(ds: core.Dataset, a: str, b: str, relation: str) -> pd.DataFrame:
    e = ds.edges
    return e[(e[EDGE.source_id] == a) & (e[EDGE.target_id] == b) & (e[EDGE.relation] == relation)]


# ---------------------------------------------------------------- entities


@pytest.mark.parametrize(
    ("a", "b"),
    [("Kalın", "kalin"), ("İbrahim KALIN", "ibrahim kalin"), ("Al-Sisi", "al Sisi"),
     ("Wałęsa", "Walesa"), ("  Hakan   Fidan ", "hakan fidan")],
)
def test_name_variants_share_one_key(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


def test_distinct_names_keep_distinct_keys() -> None:
    assert normalise_name("Hakan Fidan") != normalise_name("H. Fidan")


def test_merge_shows_one_entity_and_one_node(log: CorrectionLog, ds: core.Dataset) -> None:
    log.merge(ds, ["fidan", "hfidan"], name="Hakan Fidan", author="ana")
    cur, notes = curated(log, ds)
    assert notes == []
    fidan = entity_named(cur, "Hakan Fidan")
    assert fidan[ENT.entity_id] == "fidan"
    assert "H. Fidan" in fidan[ENT.aliases]
    assert "hfidan" not in set(cur.entities[ENT.entity_id])
    assert "hfidan" not in ids_referenced(cur)  # no mention, event or edge left on the old id
    assert fidan[ENT.n_mentions] == (ds.mentions[MEN.entity_id].isin(["fidan", "hfidan"])).sum()
    # The two nodes' edges became one node's edges: Kalın is named with Hakan Fidan in
    # two sentences and with H. Fidan in a third.
    assert edge(cur, "fidan", "kalin", "CO_MENTION")[EDGE.weight].tolist() == [3]
    assert edge(cur, "fidan", "fidan", "CO_MENTION").empty
    assert edge(cur, "fidan", "cairo", "CONSULT")[EDGE.event_ids].tolist() == [["ev3"]]
    assert ids_referenced(cur) <= set(cur.entities[ENT.entity_id])
    # The overlay is pure: the built dataset is untouched.
    assert "hfidan" in set(ds.entities[ENT.entity_id])


def test_merge_can_choose_another_canonical_name(log: CorrectionLog, ds: core.Dataset) -> None:
    log.merge(ds, ["hfidan", "fidan"], name="Fidan, Hakan")
    cur, _ = curated(log, ds)
    row = entity_named(cur, "Fidan, Hakan")
    assert {"Hakan Fidan", "H. Fidan"} <= set(row[ENT.aliases])
    assert len(cur.entities) == len(ds.entities) - 1


def test_merge_still_holds_after_a_rebuild_with_new_ids_and_articles(
    log: CorrectionLog, ds: core.Dataset
) -> None:
    log.merge(ds, ["fidan", "hfidan"], name="Hakan Fidan")
    log.rename(ds, "kalin", "İbrahim Kalın")
    log.reject_event("ev2")
    rebuilt = make_ds(prefix="v2-", rebuilt=True)  # ids changed, d3 adds mentions
    cur, notes = curated(log, rebuilt)
    assert notes == []
    fidan = entity_named(cur, "Hakan Fidan")
    assert fidan[ENT.entity_id] == "v2-fidan"
    assert "v2-hfidan" not in ids_referenced(cur)
    new_mention = cur.mentions[(cur.mentions[MEN.doc_id] == "d3")
                               & (cur.mentions[MEN.text] == "H. Fidan")]
    assert new_mention[MEN.entity_id].tolist() == ["v2-fidan"]
    assert cur.events.set_index(EV.event_id).at["ev5", EV.target_id] == "v2-fidan"
    # The rename made on "Ibrahim Kalın" lands on the rebuild's "Ibrahim Kalin".
    kalin = entity_named(cur, "İbrahim Kalın")
    assert kalin[ENT.entity_id] == "v2-kalin"
    assert "Ibrahim Kalin" in kalin[ENT.aliases]
    assert "ev2" not in set(cur.events[EV.event_id])  # events are keyed by their content id


def test_a_merge_whose_survivor_vanished_lands_on_the_rest(
    log: CorrectionLog, ds: core.Dataset
) -> None:
    log.merge(ds, ["fidan", "hfidan", "cairo"], name="Hakan Fidan")
    cur, notes = curated(log, make_ds(without=("fidan",)))
    row = entity_named(cur, "Hakan Fidan")
    assert row[ENT.entity_id] == "hfidan" and "Cairo" in row[ENT.aliases]
    assert len(notes) == 1 and "'Hakan Fidan'" in notes[0]


def test_rename_aliases_type_and_country(log: CorrectionLog, ds: core.Dataset) -> None:
    log.rename(ds, "ankara", "Ankara Province")
    log.add_alias(ds, "ankara", "Angora")
    log.set_type(ds, "ankara", ORGANIZATION)
    log.set_country(ds, "cairo", "egy")
    log.set_country(ds, "hfidan", "TUR")
    log.remove_alias(ds, "kalin", "Kalın")
    cur, notes = curated(log, ds)
    assert notes == []
    ankara = entity_named(cur, "Ankara Province")
    assert set(ankara[ENT.aliases]) == {"Ankara", "Angora"}
    assert ankara[ENT.type] == ORGANIZATION
    assert set(cur.mentions.loc[cur.mentions[MEN.entity_id] == "ankara", MEN.label]) == {
        ORGANIZATION
    }
    assert entity_named(cur, "H. Fidan")[ENT.country] == "TUR"
    assert entity_named(cur, "Ibrahim Kalın")[ENT.aliases] == []


def test_bad_values_are_refused_before_they_reach_the_log(
    log: CorrectionLog, ds: core.Dataset
) -> None:
    with pytest.raises(CurationError, match="country"):
        log.set_country(ds, "cairo", "Egypt")
    with pytest.raises(CurationError, match="type"):
        log.set_type(ds, "cairo", "CITY")
    with pytest.raises(CurationError, match="nope"):
        log.rename(ds, "nope", "x")
    with pytest.raises(CurationError, match="two"):
        log.merge(ds, ["cairo"])
    with pytest.raises(CurationError, match="unknown action"):
        log.append("delete_everything", {})
    assert log.entries() == ([], [])


def test_split_an_alias_into_its_own_entity(log: CorrectionLog, ds: core.Dataset) -> None:
    log.split_alias(ds, "kalin", "Kalın", name="Kalın (other)")
    cur, notes = curated(log, ds)
    assert notes == []
    other = entity_named(cur, "Kalın (other)")
    moved = cur.mentions[cur.mentions[MEN.entity_id] == other[ENT.entity_id]]
    assert moved[MEN.text].tolist() == ["Kalın"] * 3
    assert other[ENT.n_mentions] == 3 and other[ENT.n_documents] == 2
    kalin = entity_named(cur, "Ibrahim Kalın")
    assert kalin[ENT.n_mentions] == 1 and "Kalın" not in kalin[ENT.aliases]
    events = cur.events.set_index(EV.event_id)
    # Events in sentences that only named "Kalın" follow the split; the rest stay.
    assert events.at["ev2", EV.actor_id] == other[ENT.entity_id]
    assert events.at["ev4", EV.target_id] == other[ENT.entity_id]
    assert events.at["ev1", EV.actor_id] == "kalin"
    assert not edge(cur, other[ENT.entity_id], "israel", "ACCUSE").empty
    assert edge(cur, "kalin", "israel", "ACCUSE").empty


def test_not_an_entity_drops_its_mentions_and_its_events_as_actor(
    log: CorrectionLog, ds: core.Dataset
) -> None:
    log.not_entity(ds, "israel")
    log.not_entity(ds, "hfidan")
    cur, _ = curated(log, ds)
    assert not {"israel", "hfidan"} & set(cur.entities[ENT.entity_id])
    assert not {"israel", "hfidan"} & ids_referenced(cur)
    events = cur.events.set_index(EV.event_id)
    assert "ev3" not in events.index  # H. Fidan was its actor
    assert pd.isna(events.at["ev2", EV.target_id])  # Israel was its target: kept, no target
    assert len(cur.events) == len(ds.events) - 1


# ---------------------------------------------------------------- events


def test_event_corrections_change_the_edges(log: CorrectionLog, ds: core.Dataset) -> None:
    log.set_event_type("ev1", "COOPERATE")
    log.set_event_mode("ev2", "verbal")
    log.reject_event("ev3")
    log.swap_actor_target("ev4")
    cur, notes = curated(log, ds)
    assert notes == []
    events = cur.events.set_index(EV.event_id)
    assert events.at["ev1", EV.type] == "COOPERATE"
    assert events.at["ev2", EV.mode] == "verbal"
    assert "ev3" not in events.index
    assert (events.at["ev4", EV.actor_id], events.at["ev4", EV.target_id]) == ("kalin", "fidan")
    # ev1 and the swapped ev4 now run kalin -> fidan, but as different relations.
    assert edge(cur, "kalin", "fidan", "COOPERATE")[EDGE.event_ids].tolist() == [["ev1"]]
    assert edge(cur, "kalin", "fidan", "CONSULT")[EDGE.event_ids].tolist() == [["ev4"]]
    assert edge(cur, "fidan", "kalin", "CONSULT").empty
    assert edge(cur, "hfidan", "cairo", "CONSULT").empty


def test_two_events_on_one_pair_weigh_two(log: CorrectionLog, ds: core.Dataset) -> None:
    log.swap_actor_target("ev4")
    cur, _ = curated(log, ds)
    row = edge(cur, "kalin", "fidan", "CONSULT")
    assert row[EDGE.weight].tolist() == [2]
    assert sorted(row[EDGE.event_ids].iloc[0]) == ["ev1", "ev4"]


def test_event_types_must_look_like_plover(log: CorrectionLog) -> None:
    with pytest.raises(CurationError):
        log.set_event_type("ev1", "<script>")


# ---------------------------------------------------------------- not applicable


def test_actions_on_vanished_entities_or_events_are_reported_not_fatal(
    log: CorrectionLog, ds: core.Dataset
) -> None:
    log.not_entity(ds, "israel")
    log.merge(ds, ["fidan", "hfidan"], name="Hakan Fidan")
    log.reject_event("ev2")
    log.swap_actor_target("ev6")  # no target to swap with
    log.reject_event("ev1")
    smaller = make_ds(without=("israel", "hfidan"))  # the next build found neither
    cur, notes = curated(log, smaller)
    assert len(notes) == 3
    assert any("not applicable" in n and "Israel" in n for n in notes)
    assert any("ev6" in n and "no target" in n for n in notes)
    assert any("H. Fidan" in n for n in notes)
    assert not any("ev2" in n for n in notes)  # ev2 still existed and was rejected
    # Everything that could apply did.
    assert not {"ev1", "ev2"} & set(cur.events[EV.event_id])


def test_an_event_rejected_twice_is_noted_once(log: CorrectionLog, ds: core.Dataset) -> None:
    log.reject_event("ev1")
    log.reject_event("ev1")
    _, notes = curated(log, ds)
    assert len(notes) == 1 and "ev1" in notes[0]


# ---------------------------------------------------------------- undo / redo


def test_undo_restores_and_redo_reapplies(log: CorrectionLog, ds: core.Dataset) -> None:
    merge = log.merge(ds, ["fidan", "hfidan"], name="Hakan Fidan")
    reject = log.reject_event("ev2")
    assert log.undo(author="ana").payload["target"] == reject.id  # the latest goes first
    undo = log.undo(author="ana")
    assert undo.payload["target"] == merge.id
    cur, _ = curated(log, ds)
    pd.testing.assert_frame_equal(cur.entities, ds.entities)
    assert "ev2" in set(cur.events[EV.event_id])
    assert log.undo() is None  # nothing left in force

    assert log.redo(author="bo").payload["target"] == merge.id
    cur, _ = curated(log, ds)
    assert "hfidan" not in set(cur.entities[ENT.entity_id])
    assert "ev2" in set(cur.events[EV.event_id])  # only the merge was redone
    actions = [e.action for e in log.entries()[0]]
    assert actions == ["merge_entities", "reject_event", "undo", "undo", "redo"]


def test_a_new_correction_clears_what_redo_would_restore(
    log: CorrectionLog, ds: core.Dataset
) -> None:
    log.reject_event("ev1")
    log.undo()
    log.reject_event("ev2")
    assert log.redo() is None
    assert [e.payload["event_id"] for e in log.effective()] == ["ev2"]


def test_undo_of_a_given_entry(log: CorrectionLog, ds: core.Dataset) -> None:
    first = log.reject_event("ev1")
    log.reject_event("ev2")
    log.undo(entry_id=first.id)
    assert [e.payload["event_id"] for e in log.effective()] == ["ev2"]
    with pytest.raises(CurationError, match="not in force"):
        log.undo(entry_id=first.id)


# ---------------------------------------------------------------- the file


def test_entries_are_json_lines_with_id_time_author_action_payload(log: CorrectionLog) -> None:
    log.reject_event("ev1", author="ana")
    lines = log.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert set(entry) == {"id", "time", "author", "action", "payload"}
    assert entry["author"] == "ana" and entry["action"] == "reject_event"
    assert entry["time"].endswith("+00:00")
    assert len(entry["id"]) == 32


def test_version_changes_with_every_append(log: CorrectionLog) -> None:
    v0 = log.version()
    log.reject_event("ev1")
    v1 = log.version()
    assert v1 != v0 and log.version() == v1
    log.reject_event("ev2")
    assert log.version() not in (v0, v1)


def _append_many(store: str, author: str, n: int, barrier: object) -> None:
    log = CorrectionLog(store)
    barrier.wait()  # type: ignore[attr-defined]
    for i in range(n):
        log.append(curation.SET_EVENT_MODE, {"event_id": f"ev{i}", "mode": "x" * 200}, author)


def test_two_concurrent_writers_both_land(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_append_many, args=(str(tmp_path), a, 50, barrier))
             for a in ("ana", "bo")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    entries, problems = CorrectionLog(tmp_path).entries()
    assert problems == []
    assert len(entries) == 100 and len({e.id for e in entries}) == 100
    assert sorted(e.author for e in entries) == ["ana"] * 50 + ["bo"] * 50
    assert len((tmp_path / curation.LOG_NAME).read_bytes().splitlines()) == 100


def test_corrupted_lines_are_reported_and_skipped(log: CorrectionLog, ds: core.Dataset) -> None:
    log.reject_event("ev1")
    with open(log.path, "ab") as f:
        f.write(b"garbage that is not json\n")
        f.write(json.dumps({"id": "abcdef12", "action": "reject_event"}).encode() + b"\n")
    log.reject_event("ev2")
    with open(log.path, "ab") as f:
        f.write(b'{"id": "0123456789abcdef", "time": "2025-')  # a writer died mid-line
    entries, problems = log.entries()
    assert [e.payload["event_id"] for e in entries] == ["ev1", "ev2"]
    assert [p.line for p in problems] == [2, 3, 5]
    assert "not JSON" in problems[0].reason
    assert "half-written" in problems[2].reason
    # The next append starts on a line of its own and is read back.
    log.reject_event("ev4")
    entries, problems = log.entries()
    assert [e.payload["event_id"] for e in entries] == ["ev1", "ev2", "ev4"]
    assert [p.line for p in problems] == [2, 3, 5]
    cur, _ = apply(ds, entries)
    assert not {"ev1", "ev2", "ev4"} & set(cur.events[EV.event_id])


def test_appending_to_a_missing_store_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(CurationError, match="does not exist") as info:
        CorrectionLog(tmp_path / "nowhere").reject_event("ev1")
    assert str(tmp_path / "nowhere") in str(info.value)


# ---------------------------------------------------------------- sharing


def test_export_then_import_shares_corrections_once(tmp_path: Path, ds: core.Dataset) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = CorrectionLog(tmp_path / "a"), CorrectionLog(tmp_path / "b")
    a.merge(ds, ["fidan", "hfidan"], name="Hakan Fidan")
    a.reject_event("ev2")
    a.undo()
    b.reject_event("ev6")
    assert b.import_(a.export()) == 3
    assert b.import_(a.export()) == 0  # ids already present are skipped
    assert len(b.entries()[0]) == 4
    cur_b, _ = curated(b, ds)
    assert "hfidan" not in set(cur_b.entities[ENT.entity_id])
    assert "ev2" in set(cur_b.events[EV.event_id])  # the undo came along
    assert "ev6" not in set(cur_b.events[EV.event_id])


def test_import_of_a_bad_export_is_refused_whole(log: CorrectionLog) -> None:
    good = CorrectionLog(log.store_dir)
    data = json.dumps({"id": "ab" * 16, "time": "2025-07-09T10:00:00+00:00", "author": "x",
                       "action": "reject_event", "payload": {"event_id": "ev1"}}).encode()
    with pytest.raises(CurationError, match="line 2"):
        good.import_(data + b"\n{broken\n")
    assert log.entries() == ([], [])
    assert good.import_(data) == 1


# ---------------------------------------------------------------- a real store


def test_load_curated_overlays_the_log_on_a_saved_store(tmp_path: Path, ds: core.Dataset) -> None:
    store = core.save_dataset(ds, tmp_path / "store")
    log = CorrectionLog(store)
    log.merge(ds, ["fidan", "hfidan"], name="Hakan Fidan")
    with open(log.path, "ab") as f:
        f.write(b"\x00\x01 not a line\n")
    cur, notes = load_curated(store)
    assert "hfidan" not in set(cur.entities[ENT.entity_id])
    assert notes == [f"{curation.LOG_NAME} line 2: not JSON"]
    assert cur.manifest["counts"]["entities"] == len(ds.entities) - 1
    # The built frames on disk are never rewritten.
    assert "hfidan" in set(core.load_dataset(store).entities[ENT.entity_id])


def test_no_corrections_returns_the_dataset_as_built(ds: core.Dataset) -> None:
    cur, notes = apply(ds, [])
    assert notes == []
    for name, df in ds.frames().items():
        pd.testing.assert_frame_equal(cur.frames()[name], df)


def test_the_log_table_shows_what_is_in_force(log: CorrectionLog, ds: core.Dataset) -> None:
    log.merge(ds, ["fidan", "hfidan"], name="  Hakan   Fidan ", author="ana")
    log.reject_event("ev2", author="bo")
    log.undo(author="bo")
    table = log.table()
    assert table["status"].tolist() == ["undo", "undone", "in force"]  # newest first
    assert table["author"].tolist() == ["bo", "bo", "ana"]
    assert "Hakan Fidan" in table["summary"].iloc[2] and "H. Fidan" in table["summary"].iloc[2]
    assert "ev2" in table["summary"].iloc[1]


def test_two_sessions_on_one_store_see_each_other(tmp_path: Path, ds: core.Dataset) -> None:
    ana, bo = CorrectionLog(tmp_path), CorrectionLog(tmp_path)
    ana.merge(ds, ["fidan", "hfidan"], name="Hakan Fidan", author="ana")
    before = bo.version()
    bo.reject_event("ev2", author="bo")
    assert ana.version() != before
    ana.undo(author="ana", mine=True)  # her own latest, not bo's later one
    cur, _ = curated(bo, ds)
    assert "hfidan" in set(cur.entities[ENT.entity_id])
    assert "ev2" not in set(cur.events[EV.event_id])
    assert ana.undo(author="ana", mine=True) is None
    assert bo.redo(author="bo", mine=True) is None  # the undone merge is not his
    ana.redo(author="ana", mine=True)
    cur, _ = curated(bo, ds)
    assert "hfidan" not in set(cur.entities[ENT.entity_id])


def test_a_rebuild_keeps_the_log(tmp_path: Path, ds: core.Dataset) -> None:
    store = core.save_dataset(ds, tmp_path / "store")
    log = CorrectionLog(store)
    log.merge(ds, ["fidan", "hfidan"], name="Hakan Fidan")
    core.save_dataset(ds, store)  # a rebuild writes a new version
    log.reject_event("ev2")
    actions = [e.action for e in CorrectionLog(store).entries()[0]]
    assert actions == ["merge_entities", "reject_event"]


# ---------------------------------------------------------------- the real pipeline


def test_edges_recomputed_from_uncorrected_frames_equal_the_built_ones(
    seeds_ds: core.Dataset,
) -> None:
    rebuilt = curation.recompute_edges(seeds_ds.documents, seeds_ds.mentions, seeds_ds.events)
    pd.testing.assert_frame_equal(rebuilt, seeds_ds.edges)


def test_corrections_on_a_real_build_leave_no_dangling_id(
    tmp_path: Path, seeds_ds: core.Dataset
) -> None:
    if len(seeds_ds.entities) < 3 or seeds_ds.events.empty:
        pytest.skip("the seed build has too little to correct")
    log = CorrectionLog(tmp_path)
    first, second, third = seeds_ds.entities[ENT.entity_id].iloc[:3]
    log.merge(seeds_ds, [first, second], name="Merged")
    log.not_entity(seeds_ds, third)
    log.reject_event(seeds_ds.events[EV.event_id].iloc[0])
    cur, notes = curated(log, seeds_ds)
    assert notes == []
    assert len(cur.entities) == len(seeds_ds.entities) - 2
    assert ids_referenced(cur) <= set(cur.entities[ENT.entity_id])
    assert ids_referenced(cur) & {second, third} == set()
