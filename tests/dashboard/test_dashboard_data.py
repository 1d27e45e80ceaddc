"""The dashboard's plain functions: one filter, consistent frames, safe exports and HTML."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import networkx as nx
import pytest

from bench.gen_store import HOSTILE, KALIN
from core import load_dataset
from core.schemas import DOC, EDGE, ENT, EV, MEN
from dashboard import data
from dashboard import filters as flt
from dashboard.components import map as world
from dashboard.components import network


@pytest.fixture(scope="module")
def prep():
    from bench.gen_store import generate_dataset

    return data.prepare(generate_dataset(600, seed=5, hostile=True))


def _kalin(prep) -> str:
    ents = prep.ds.entities
    return ents.loc[ents[ENT.name] == KALIN[0], ENT.entity_id].iloc[0]


def _hostile(prep) -> str:
    ents = prep.ds.entities
    return ents.loc[ents[ENT.name] == HOSTILE[0], ENT.entity_id].iloc[0]


def test_no_filter_shows_everything(prep) -> None:
    view = flt.apply(prep.ds, flt.Filters(), prep.aux)
    assert len(view.events) == len(prep.ds.events)
    assert len(view.entities) == len(prep.ds.entities)


def test_filtered_frames_are_consistent_with_the_events(prep) -> None:
    f = flt.Filters(actors=(_kalin(prep),), topics=("terrorism", "nuclear"))
    view = flt.apply(prep.ds, f, prep.aux)
    ev = view.events
    assert len(ev) > 0
    assert all(set(t) & {"terrorism", "nuclear"} for t in ev[EV.topics])
    involved = set(ev[EV.actor_id]) | set(ev[EV.target_id].dropna())
    assert set(view.entities[ENT.entity_id]) == involved
    assert set(view.documents[DOC.doc_id]) == set(ev[EV.doc_id])
    assert set(view.mentions[MEN.entity_id]) <= involved
    assert set(view.mentions[MEN.doc_id]) <= set(ev[EV.doc_id])
    shown = set(ev[EV.event_id])
    for row in view.edges.itertuples():
        assert set(row.event_ids) <= shown
        assert row.weight == len(row.event_ids)  # recounted over the shown events
    assert view.edges[EDGE.event_ids].map(len).sum() == len(ev)


def test_date_range_is_inclusive_and_drops_undated(prep) -> None:
    f = flt.Filters(date_from=date(2025, 3, 1), date_to=date(2025, 3, 31))
    ev = flt.apply(prep.ds, f, prep.aux).events
    assert len(ev) > 0
    assert ev[EV.date].between("2025-03-01", "2025-03-31 23:59").all()
    march = prep.ds.events[EV.date].dt.strftime("%Y-%m") == "2025-03"
    assert len(ev) == march.sum()


def test_text_filter_is_a_literal_case_insensitive_search(prep) -> None:
    ev = flt.apply(prep.ds, flt.Filters(text="MET WITH"), prep.aux).events
    assert len(ev) > 0 and ev[EV.evidence].str.contains("met with").all()
    # Regex characters are taken literally, not as a pattern.
    assert flt.apply(prep.ds, flt.Filters(text=".*"), prep.aux).events.empty


def test_query_params_round_trip(prep) -> None:
    f = flt.Filters(actors=(_kalin(prep),), types=("CONSULT",), countries=("TUR", "IRN"),
                    topics=("terrorism",), date_from=date(2025, 1, 2), date_to=date(2025, 5, 1),
                    text="border")
    params = {k: v if isinstance(v, list) else [v] for k, v in flt.to_query_params(f).items()}
    back, warnings = flt.parse_query_params(params, prep.options)
    assert back == f and warnings == []


def test_bad_query_params_become_warnings(prep) -> None:
    params = {"actor": ["<script>"], "from": ["2025-13-01"], "to": ["2025-01-01"],
              "type": ["CONSULT", "NOPE"], "q": ["x" * 500]}
    f, warnings = flt.parse_query_params(params, prep.options)
    assert f.actors == () and f.date_from is None and f.types == ("CONSULT",)
    assert len(f.text) == flt.MAX_TEXT
    assert len(warnings) == 4
    f, warnings = flt.parse_query_params({"from": ["2025-05-01"], "to": ["2025-01-01"]},
                                         prep.options)
    assert f.date_from is None and f.date_to is None and warnings


def test_evidence_marks_actor_target_and_trigger_and_escapes(prep) -> None:
    hostile = _hostile(prep)
    ev = prep.ds.events
    event = ev[ev[EV.target_id] == hostile].iloc[0]
    out = data.evidence_html(prep, event)
    assert "<img" not in out and "</script>" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert 'class="dyad-trigger" title="trigger" style' in out
    assert out.count("<mark") == 3
    assert 'class="dyad-actor"' in out and 'class="dyad-target"' in out


def test_csv_neutralises_formulas_and_json_keeps_values(prep) -> None:
    view = flt.apply(prep.ds, flt.Filters(actors=(_hostile(prep),)), prep.aux)
    rows = list(csv.DictReader(io.StringIO(data.csv_bytes(view.entities).decode())))
    aliases = [r[ENT.aliases] for r in rows if r[ENT.name] == HOSTILE[0]]
    assert aliases == ["'=HYPERLINK(\"x\")"]
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    records = json.loads(data.json_bytes(view.entities))
    assert {r[ENT.entity_id] for r in records} == set(view.entities[ENT.entity_id])


def test_network_graph_respects_weight_and_node_limit(prep) -> None:
    view = flt.apply(prep.ds, flt.Filters(), prep.aux)
    g, notice = network.build_graph(view.entities, view.edges, view.events, min_weight=1,
                                    limit=20)
    assert g.number_of_nodes() == 20 and notice
    busiest = data.involvement(view.events).index[:5]
    assert set(busiest) <= set(g.nodes)
    g2, notice2 = network.build_graph(view.entities, view.edges, view.events, min_weight=3,
                                      limit=5000)
    assert notice2 is None
    assert all(w >= 3 for *_, w in g2.edges(data="weight"))


def test_network_exports_parse_back(prep) -> None:
    view = flt.apply(prep.ds, flt.Filters(actors=(_kalin(prep),)), prep.aux)
    g, _ = network.build_graph(view.entities, view.edges, view.events)
    for raw, reader in ((network.to_gexf(g), nx.read_gexf),
                        (network.to_graphml(g), nx.read_graphml)):
        back = reader(io.BytesIO(raw))
        assert back.number_of_nodes() == g.number_of_nodes()
        assert back.number_of_edges() == g.number_of_edges()
        assert back.nodes[_kalin(prep)]["label"] == KALIN[0]


def test_network_html_is_offline_and_escaped(prep) -> None:
    view = flt.apply(prep.ds, flt.Filters(actors=(_hostile(prep),)), prep.aux)
    g, _ = network.build_graph(view.entities, view.edges, view.events)
    page = network.to_html(g)
    assert "<img src=x" not in page and '</script>"Corp' not in page
    assert "cdn" not in page.lower().split("</head>")[1]
    assert "<link" not in page and "src=\"http" not in page
    nodes = json.loads(page.split("var nodes = ", 1)[1].split(";\n", 1)[0])
    titles = " ".join(n["title"] for n in nodes)
    assert "&lt;img src=x onerror=alert(1)&gt;" in titles  # escaped HTML, shown as text
    assert {n["id"] for n in nodes} == set(g.nodes)  # internal ids, not names


def test_map_selection_gives_countries() -> None:
    event = {"selection": {"points": [{"location": "IRN"}, {"location": "TUR"},
                                      {"location": "IRN"}, {"x": 1}]}}
    assert world.selected_countries(event) == ["IRN", "TUR"]
    assert world.selected_countries(None) == []


def test_store_location_from_args_env_or_seeds(tmp_path: Path) -> None:
    assert data.store_from_args(["--data", str(tmp_path)], {}) == (tmp_path, False)
    assert data.store_from_args([f"--data={tmp_path}"], {}) == (tmp_path, False)
    assert data.store_from_args([], {data.ENV_DATA: str(tmp_path)}) == (tmp_path, False)
    assert data.store_from_args([], {}) == (data.SEEDS_STORE, True)


def test_upload_refuses_unsafe_files_and_rebuilds_with_the_rest(tmp_path: Path) -> None:
    store = tmp_path / "store"
    data.build_store([data.SEEDS_DIR], store, None)
    before = len(load_dataset(store).documents)
    article = ("Turkish Foreign Minister Hakan Fidan met with Iraqi Prime Minister "
               "Mohammed Shia al-Sudani in Baghdad on Monday to discuss border security.")
    batch = data.receive_uploads(store, [
        ("../../escape.txt", article.encode()), ("run.exe", b"MZ\x90\x00"),
    ])
    assert [r.name for r in batch.rejected] == ["run.exe"]
    assert all(p.parent == batch.folder for p in batch.accepted)
    assert batch.folder.parent == data.uploads_root(store)  # beside the store, never outside
    data.build_uploads(store, batch)
    assert len(load_dataset(store).documents) == before + 1
    data.rebuild(store)  # the recorded sources now include the upload
    assert len(load_dataset(store).documents) == before + 1
