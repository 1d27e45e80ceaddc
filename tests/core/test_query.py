"""core.query (DuckDB over the store) gives what dashboard.filters.apply gives in pandas."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.gen_store import HOSTILE, generate_dataset  # noqa: E402
from core import save_dataset  # noqa: E402
from core.query import StoreQuery, like_pattern  # noqa: E402
from core.schemas import EDGE, ENT, EV, MEN  # noqa: E402
from dashboard import filters as flt  # noqa: E402


@pytest.fixture(scope="module")
def ds():
    return generate_dataset(1500, seed=13, hostile=True)


@pytest.fixture(scope="module", params=["partitioned", "single-file"])
def query(request, ds, tmp_path_factory) -> StoreQuery:
    out = tmp_path_factory.mktemp(request.param) / "store"
    save_dataset(ds, out, partition_rows=100 if request.param == "partitioned" else None)
    q = StoreQuery(out)
    assert q.partitioned == (request.param == "partitioned")
    return q


def _busiest(ds) -> str:
    return pd.concat([ds.events[EV.actor_id], ds.events[EV.target_id]]).value_counts().index[0]


def _hostile_id(ds) -> str:
    return ds.entities.loc[ds.entities[ENT.name] == HOSTILE[0], ENT.entity_id].iloc[0]


CASES = {
    "none": lambda ds: flt.Filters(),
    "actor": lambda ds: flt.Filters(actors=(_busiest(ds),)),
    "hostile actor": lambda ds: flt.Filters(actors=(_hostile_id(ds),)),
    "type+date": lambda ds: flt.Filters(types=("CONSULT", "ACCUSE"), date_from=date(2025, 3, 1),
                                        date_to=date(2025, 5, 31)),
    "date from": lambda ds: flt.Filters(date_from=date(2025, 11, 15)),
    "country": lambda ds: flt.Filters(countries=("IRN",)),
    "topic": lambda ds: flt.Filters(topics=("nuclear", "trade")),
    "text": lambda ds: flt.Filters(text="MET WITH"),
    "text with wildcards": lambda ds: flt.Filters(text="%_"),
    "hostile text": lambda ds: flt.Filters(text="<img src"),
    "everything": lambda ds: flt.Filters(actors=(_busiest(ds),), countries=("TUR", "USA"),
                                         types=("CONSULT", "AID", "ACCUSE", "ASSAULT"),
                                         topics=("terrorism",), date_from=date(2025, 2, 1),
                                         text=" in "),
}


@pytest.fixture(scope="module")
def aux(ds):
    return flt.make_aux(ds)


@pytest.mark.parametrize("case", list(CASES))
def test_the_same_events_match_as_in_pandas(query, ds, aux, case) -> None:
    f = CASES[case](ds)
    view = flt.apply(ds, f, aux)
    got = query.events(f)
    full = query.events(f, full=True)
    assert full[EV.event_id].tolist() == got[EV.event_id].tolist()
    assert full[EV.evidence].tolist() == view.events.set_index(EV.event_id).loc[
        full[EV.event_id], EV.evidence].tolist()
    assert query.count(f) == len(view.events) == len(got)
    expected = view.events.sort_values([EV.date, EV.event_id], ascending=[False, True],
                                       na_position="last")
    assert got[EV.event_id].tolist() == expected[EV.event_id].tolist()
    if len(got):
        titles = ds.documents.set_index("doc_id")["title"]
        assert got["doc_title"].tolist() == expected[EV.doc_id].map(titles).tolist()
        assert [list(t) for t in got[EV.topics]] == expected[EV.topics].tolist()


@pytest.mark.parametrize("case", list(CASES))
def test_counts_match_pandas(query, ds, aux, case) -> None:
    f = CASES[case](ds)
    view = flt.apply(ds, f, aux)
    ev = view.events
    by_type = query.counts_by_type(f).set_index("type")["n"].to_dict()
    assert by_type == ev[EV.type].value_counts().to_dict()
    top = query.top_actors(f, 5)
    assert top["n"].tolist() == ev[EV.actor_id].value_counts().head(5).tolist()
    country = ds.entities.set_index(ENT.entity_id)[ENT.country]
    for by, series in (("location", ev[EV.location]), ("actor", ev[EV.actor_id].map(country)),
                       ("target", ev[EV.target_id].map(country))):
        got = query.country_counts(f, by).set_index("country")["n"].to_dict()
        assert got == series.dropna().value_counts().to_dict(), by
    summary = query.summary(f)
    assert summary["events"] == len(ev)
    assert summary["documents"] == len(view.documents)
    assert summary["entities"] == len(view.entities)
    assert summary["undated"] == int(ev[EV.date].isna().sum())


@pytest.mark.parametrize("case", ["none", "actor", "country", "type+date", "everything"])
def test_entities_documents_and_edges_match_pandas(query, ds, aux, case) -> None:
    f = CASES[case](ds)
    view = flt.apply(ds, f, aux)
    stats = query.entity_stats(f).set_index("entity_id")
    assert set(stats.index) == set(view.entities[ENT.entity_id])
    inv = pd.concat([view.events[EV.actor_id], view.events[EV.target_id]]).value_counts()
    assert (stats["n_events"] == inv.reindex(stats.index).fillna(0).astype(int)).all()
    men = view.mentions[MEN.entity_id].value_counts()
    assert (stats["n_mentions"] == men.reindex(stats.index).fillna(0).astype(int)).all()
    assert set(query.documents(f)["doc_id"]) == set(view.documents["doc_id"])
    key = [EDGE.source_id, EDGE.target_id, EDGE.relation]
    got = query.edges(f).set_index(key)[EDGE.weight].sort_index()
    want = view.edges.set_index(key)[EDGE.weight].sort_index()
    pd.testing.assert_series_equal(got.astype("int64"), want.astype("int64"),
                                   check_names=False)


@pytest.mark.parametrize("freq", ["day", "week", "month"])
def test_timeline_buckets_match_pandas(query, ds, aux, freq) -> None:
    f = CASES["country"](ds)
    ev = flt.apply(ds, f, aux).events
    ev = ev[ev[EV.date].notna()]
    period = ev[EV.date].dt.to_period({"day": "D", "week": "W-SUN", "month": "M"}[freq])
    want = ev.groupby([period.dt.start_time, ev[EV.type]]).size()
    got = query.timeline(f, freq, "type").set_index(["period", "group"])["n"]
    assert got.to_dict() == want.to_dict()
    leaders = query.timeline(f, freq, "top actors", top=3)
    assert leaders["group"].dropna().nunique() == 3
    assert leaders["n"].sum() == len(ev)


def test_a_page_of_events_is_a_slice_of_the_whole(query, ds) -> None:
    f = flt.Filters(types=("CONSULT",))
    whole = query.events(f)
    page = query.events(f, limit=20, offset=40)
    assert page[EV.event_id].tolist() == whole[EV.event_id].iloc[40:60].tolist()


def test_user_text_is_bound_not_spliced_into_sql(query, ds) -> None:
    evil = flt.Filters(text="x' OR 1=1 --", actors=("e_' OR '1'='1",))
    assert query.count(evil) == 0
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"


def test_the_fast_benchmark_generator_keeps_the_data_contract() -> None:
    from bench.gen_store import generate_fast
    from core import schemas

    ds = generate_fast(2000, seed=3, hostile=True)
    for name, df in ds.frames().items():
        schemas.validate(name, df)  # raises SchemaError when a frame breaks the contract
    text = ds.documents.set_index("doc_id")["text"]
    ev = ds.events
    assert all(text[d][s:e] == evidence for d, s, e, evidence in zip(
        ev[EV.doc_id], ev[EV.evidence_start], ev[EV.evidence_end], ev[EV.evidence], strict=True))
    men = ds.mentions
    assert all(text[d][s:e] == t for d, s, e, t in zip(
        men[MEN.doc_id], men[MEN.start], men[MEN.end], men[MEN.text], strict=True))
    assert ds.edges[EDGE.weight].sum() == (ev[EV.actor_id] != ev[EV.target_id]).sum()
