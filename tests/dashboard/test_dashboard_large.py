"""The DuckDB engine (large stores) draws the same pages as pandas: the app tests, re-run.

DYAD_ENGINE=duckdb makes the dashboard serve the synthetic store as it serves a store
of more than LARGE_EVENTS events, so the same assertions check both engines.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import save_dataset
from core.schemas import EV
from dashboard import data
from dashboard.filters import KEY, PARAM
from tests.dashboard.conftest import APP
from tests.dashboard.test_dashboard_app import (  # noqa: F401  (collected again here)
    VIEWS,
    test_actor_filter_leaves_only_his_events,
    test_country_filter_keeps_events_touching_the_country,
    test_entity_profile_lists_counterparts,
    test_every_page_renders,
    test_invalid_url_parameters_warn_and_are_ignored,
    test_map_counts_the_chosen_country_role,
    test_network_page_escapes_names,
    test_no_match_says_so_on_every_page,
    test_overview_figures_match_the_store,
    test_seeds_kalin_filter,
    test_seeds_store_pages_render,
    test_url_query_parameters_restore_the_filters,
)


@pytest.fixture(autouse=True)
def duckdb_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(data.ENV_ENGINE, "duckdb")


def test_the_engine_follows_the_store_size(synthetic_store: Path, tmp_path: Path,
                                           small_dataset, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    assert data.engine(synthetic_store, {}) == "pandas"  # 2,000 events
    monkeypatch.setattr(data, "LARGE_EVENTS", 100)
    assert data.engine(synthetic_store, {}) == "duckdb"
    assert data.engine(synthetic_store, {data.ENV_ENGINE: "pandas"}) == "pandas"
    # A partitioned store (as large builds write it) is served too.
    save_dataset(small_dataset, tmp_path / "store", partition_rows=50)
    assert (tmp_path / "store" / "current" / "events").is_dir()
    monkeypatch.setenv(data.ENV_DATA, str(tmp_path / "store"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    figures = {m.label: m.value for m in at.metric}
    assert figures["Events"] == f"{len(small_dataset.events):,}"


def test_large_store_pages_hold_no_event_frame(synthetic_store: Path, synthetic,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    prep = data.prepare_large(synthetic_store)
    assert prep.ds.events.empty and prep.ds.mentions.empty and prep.ds.documents.empty
    assert len(prep.ds.entities) == len(synthetic.ds.entities)
    assert prep.options.types == synthetic.options.types
    assert prep.options.countries == synthetic.options.countries
    assert prep.options.topics == synthetic.options.topics
    assert list(prep.options.actors) == list(synthetic.options.actors)


def test_selected_event_shows_escaped_evidence(synthetic_store: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(data.ENV_DATA, str(synthetic_store))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params[PARAM.text] = "<img"
    at.run()
    at.switch_page("views/events.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) > 0
    cur = at.session_state[data._CURRENT]
    event = data.event_by_id_for(cur, table.iloc[0][data.COL.event_id])
    assert event is not None and "<img" in event[EV.evidence]
    page = data.evidence_html(cur.prep, event)
    assert "<img" not in page and "&lt;img" in page
    assert 'class="dyad-actor"' in page or 'class="dyad-target"' in page
    assert at.multiselect(key=KEY.types).value == []
