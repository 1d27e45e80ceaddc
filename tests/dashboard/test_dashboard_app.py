"""Every page through streamlit's AppTest, on a synthetic store and on the seeds."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from bench.gen_store import KALIN
from core import load_dataset
from core.schemas import ENT, EV
from dashboard import data
from dashboard.filters import KEY, PARAM
from tests.dashboard.conftest import APP

VIEWS = ["overview", "events", "entities", "map", "timeline", "network", "sources"]


def _app(store: Path, monkeypatch: pytest.MonkeyPatch, **params: str | list[str]) -> AppTest:
    monkeypatch.setenv(data.ENV_DATA, str(store))
    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _page(at: AppTest, view: str) -> AppTest:
    at.switch_page(f"views/{view}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _figure(at: AppTest, index: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def _values(field: list | dict) -> list:
    """A plotly data array from figure JSON (plotly 6 packs numbers as base64 typed arrays)."""
    if isinstance(field, dict) and "bdata" in field:
        return np.frombuffer(base64.b64decode(field["bdata"]), dtype=field["dtype"]).tolist()
    return list(field)


def _param(at: AppTest, name: str) -> list[str]:
    value = at.query_params.get(name, [])
    return [value] if isinstance(value, str) else list(value)


def _table(at: AppTest, index: int = 0) -> pd.DataFrame:
    return at.dataframe[index].value


def test_every_page_renders(synthetic_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(synthetic_store, monkeypatch)
    assert not at.exception
    for view in VIEWS:
        _page(at, view)
        assert at.title[0].value.lower() == view


def test_overview_figures_match_the_store(synthetic_store: Path, synthetic,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(synthetic_store, monkeypatch)
    figures = {m.label: m.value for m in at.metric}
    assert figures["Events"] == f"{len(synthetic.ds.events):,}"
    assert figures["Documents"] == f"{len(synthetic.ds.documents):,}"
    by_type = _figure(at)["data"][0]
    counts = synthetic.ds.events[EV.type].value_counts()
    assert dict(zip(_values(by_type["y"]), _values(by_type["x"]), strict=True)) == counts.to_dict()


def test_actor_filter_leaves_only_his_events(synthetic_store: Path, synthetic, kalin_id: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(synthetic_store, monkeypatch)
    at.multiselect(key=KEY.actors).set_value([kalin_id]).run()
    assert _param(at, PARAM.actors) == [kalin_id]
    _page(at, "events")
    table = _table(at)
    ev = synthetic.ds.events
    his = ev[(ev[EV.actor_id] == kalin_id) | (ev[EV.target_id] == kalin_id)]
    assert len(table) == len(his) > 0
    assert ((table[data.COL.actor] == KALIN[0]) | (table[data.COL.target] == KALIN[0])).all()
    # The other pages follow the same filter.
    _page(at, "entities")
    names = set(_table(at)[data.COL.name])
    assert KALIN[0] in names and len(names) < len(synthetic.ds.entities)
    _page(at, "timeline")
    bars = sum(sum(_values(trace["y"])) for trace in _figure(at)["data"])
    assert bars == his[EV.date].notna().sum()


def test_url_query_parameters_restore_the_filters(synthetic_store: Path, synthetic,
                                                  kalin_id: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(synthetic_store, monkeypatch, **{
        PARAM.actors: kalin_id, PARAM.types: ["CONSULT", "ACCUSE"], PARAM.date_from: "2025-03-01",
    })
    assert at.multiselect(key=KEY.actors).value == [kalin_id]
    assert at.multiselect(key=KEY.types).value == ["CONSULT", "ACCUSE"]
    _page(at, "events")
    table = _table(at)
    assert len(table) > 0
    assert set(table[data.COL.type]) <= {"CONSULT", "ACCUSE"}
    assert (pd.to_datetime(table[data.COL.date]) >= "2025-03-01").all()
    # Switching pages keeps the filters in the URL, so the link still reproduces the view.
    assert _param(at, PARAM.actors) == [kalin_id]
    assert _param(at, PARAM.date_from) == ["2025-03-01"]


def test_invalid_url_parameters_warn_and_are_ignored(synthetic_store: Path, synthetic,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(synthetic_store, monkeypatch, **{
        PARAM.actors: "[e_nobody](http://evil.example)", PARAM.date_from: "31/12/2025",
        PARAM.types: "CONSULT",
    })
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    # The URL's text is shown literally: Markdown-escaped, so no link is made of it.
    assert "](http" not in warnings
    assert "[e_nobody](http://evil.example)" in warnings.replace("\\", "")
    assert "31/12/2025" in warnings
    assert at.multiselect(key=KEY.types).value == ["CONSULT"]  # the valid part still applies
    _page(at, "events")
    assert set(_table(at)[data.COL.type]) == {"CONSULT"}


def test_no_match_says_so_on_every_page(synthetic_store: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    at = _app(synthetic_store, monkeypatch, **{PARAM.text: "no sentence says this"})
    for view in VIEWS:
        _page(at, view)
        assert data.NO_EVENTS in [i.value for i in at.info], view


def test_map_counts_the_chosen_country_role(synthetic_store: Path, synthetic, kalin_id: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(synthetic_store, monkeypatch, **{PARAM.actors: kalin_id})
    _page(at, "map")
    ev = synthetic.ds.events
    his = ev[(ev[EV.actor_id] == kalin_id) | (ev[EV.target_id] == kalin_id)]
    trace = _figure(at)["data"][0]
    assert dict(zip(_values(trace["locations"]), _values(trace["z"]), strict=True)) == (
        his[EV.location].value_counts().to_dict()
    )
    at.radio(key="map_mode").set_value("actor").run()
    trace = _figure(at)["data"][0]
    countries = synthetic.ds.entities.set_index(ENT.entity_id)[ENT.country]
    expected = his[EV.actor_id].map(countries).value_counts().to_dict()
    assert dict(zip(_values(trace["locations"]), _values(trace["z"]), strict=True)) == expected


def test_country_filter_keeps_events_touching_the_country(
    synthetic_store: Path, synthetic, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(synthetic_store, monkeypatch, **{PARAM.countries: "IRN"})
    _page(at, "events")
    table = _table(at)
    ents = synthetic.ds.entities.set_index(ENT.name)[ENT.country]
    touches = (
        (table[data.COL.location] == "IRN")
        | (table[data.COL.actor].map(ents) == "IRN")
        | (table[data.COL.target].map(ents) == "IRN")
    )
    assert len(table) > 0 and touches.all()


def test_network_page_escapes_names(synthetic_store: Path, monkeypatch: pytest.MonkeyPatch
                                    ) -> None:
    at = _app(synthetic_store, monkeypatch)
    _page(at, "network")
    frame = next(e for e in at.main if getattr(e, "type", "") == "iframe")
    page = frame.proto.srcdoc
    assert "dyadNetwork" in page
    assert "<img src=x" not in page and "</script>\"Corp" not in page
    assert "http://" not in page.split("</script>", 1)[1]  # nothing fetched by our markup


def test_entity_profile_lists_counterparts(synthetic_store: Path, synthetic, kalin_id: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(synthetic_store, monkeypatch)
    _page(at, "entities")
    at.selectbox(key="entities_profile").set_value(kalin_id).run()
    assert at.subheader[0].value == KALIN[0]
    counterparts = _table(at, 1)
    ev = synthetic.ds.events
    his = ev[(ev[EV.actor_id] == kalin_id) | (ev[EV.target_id] == kalin_id)]
    assert counterparts[data.COL.events].sum() == len(his)


# --- the bundled seeds -------------------------------------------------------------------------


def test_seeds_store_pages_render(seeds_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(seeds_store, monkeypatch)
    assert not at.exception
    ds = load_dataset(seeds_store)
    figures = {m.label: m.value for m in at.metric}
    assert figures["Documents"] == str(len(ds.documents))
    assert figures["Events"] == str(len(ds.events))
    for view in VIEWS:
        _page(at, view)
    # Nothing from the articles' boilerplate reaches the entity table.
    _page(at, "entities")
    if not ds.events.empty:
        names = " ".join(_table(at)[data.COL.name])
        assert "Explore" not in names and "min read" not in names


def test_seeds_kalin_filter(seeds_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = load_dataset(seeds_store)
    kalin = ds.entities[ds.entities[ENT.name].str.contains("Kal[ıi]n", regex=True)]
    ev = ds.events
    ids = list(kalin[ENT.entity_id])
    his = ev[ev[EV.actor_id].isin(ids) | ev[EV.target_id].isin(ids)]
    if his.empty:
        pytest.skip("the seeds store has no events involving Kalın yet (event stage pending)")
    at = _app(seeds_store, monkeypatch, **{PARAM.actors: ids})
    _page(at, "events")
    table = _table(at)
    assert len(table) == len(his)
    names = set(kalin[ENT.name])
    assert (table[data.COL.actor].isin(names) | table[data.COL.target].isin(names)).all()


def test_first_start_builds_the_seeds_store(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(data.ENV_DATA, raising=False)
    monkeypatch.setattr(data, "SEEDS_STORE", tmp_path / "seeds-store")
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert (tmp_path / "seeds-store").exists()
    figures = {m.label: m.value for m in at.metric}
    assert figures["Documents"] == str(len(list(data.SEEDS_DIR.glob("*.txt"))))


def test_missing_store_is_an_error_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(tmp_path / "nowhere", monkeypatch)
    assert not at.exception
    assert "No Dyad store" in at.error[0].value


def test_corrections_are_shown_and_a_new_one_refreshes_the_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.gen_store import write_store
    from core.curation import CorrectionLog

    store = write_store(tmp_path / "store", 300, seed=5)
    ds = load_dataset(store)
    ev = ds.events
    kalin = ds.entities.loc[ds.entities[ENT.name] == KALIN[0], ENT.entity_id].iloc[0]
    at = _app(store, monkeypatch)
    _page(at, "entities")
    assert KALIN[0] in set(_table(at)[data.COL.name])
    CorrectionLog(store).rename(ds, kalin, "İbrahim Kalın (MIT)", author="test")
    rejected = ev.loc[ev[EV.actor_id] == kalin, EV.event_id].iloc[0]
    CorrectionLog(store).reject_event(rejected, author="test")
    at.run()
    names = set(_table(at)[data.COL.name])
    assert "İbrahim Kalın (MIT)" in names and KALIN[0] not in names
    assert {m.label: m.value for m in _page(at, "overview").metric}["Events"] == (
        f"{len(ev) - 1:,}"
    )


def test_read_only_mode_hides_uploads_and_rebuilds(synthetic_store: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYAD_READ_ONLY", "1")
    at = _page(_app(synthetic_store, monkeypatch), "sources")
    assert not at.get("file_uploader")
    assert not [b for b in at.button if "Rebuild" in b.label]
    assert any("editor role" in c.value for c in at.caption)


def test_password_gate_keeps_every_page_shut(synthetic_store: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from core.passwords import hash_password
    from dashboard import auth

    monkeypatch.setenv("DYAD_PASSWORD_HASH", hash_password("correct horse"))
    at = _app(synthetic_store, monkeypatch)
    assert not at.exception
    assert not at.metric and not at.dataframe  # nothing from the store before signing in
    at.text_input(key=auth.PASSWORD_KEY).input("correct horse")
    next(b for b in at.button if b.label == auth.SUBMIT_LABEL).click()
    at.run()
    assert not at.exception
    assert at.metric  # the Overview's figures


def _submit(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def test_editor_merges_two_entities_and_undoes_it_from_the_dashboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.gen_store import write_store

    store = write_store(tmp_path / "store", 300, seed=5)
    at = _page(_app(store, monkeypatch), "entities")
    first, second = _table(at)[data.COL.name].iloc[:2]
    before = len(load_dataset(store).entities)
    at.selectbox(key="entities_profile").set_value(
        _table(at)[data.COL.entity_id].iloc[0]).run()
    # Form widgets take their values with the submit click.
    at.multiselect(key="cur_merge_ids").set_value([_table(at)[data.COL.entity_id].iloc[1]])
    at.text_input(key="cur_merge_name").input(f"{first} / {second}")
    _submit(at, "Merge")
    assert not at.exception
    _page(at, "overview")
    assert {m.label: m.value for m in at.metric}["Entities"] == f"{before - 1:,}"
    from core.curation import CorrectionLog

    assert [e.action for e in CorrectionLog(store).entries()[0]] == ["merge_entities"]
    _page(at, "sources")
    _submit(at, "Undo")
    _page(at, "overview")
    assert {m.label: m.value for m in at.metric}["Entities"] == f"{before:,}"


def test_viewers_see_no_correction_forms(synthetic_store: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYAD_READ_ONLY", "1")
    at = _page(_app(synthetic_store, monkeypatch), "entities")
    assert not [e for e in at.expander if e.label == "Correct this entity"]
    assert not [b for b in at.button if b.label in ("Merge", "Rename", "Not an entity")]
