"""Loading, caching and the computations behind the pages.

This is the only module with st.cache_data / st.cache_resource: the store is read
once per manifest key, filtered views are cached per (store, filters), and the
pages call the plain functions below to get the tables and counts they draw.

Two engines serve the same pages. A store of up to LARGE_EVENTS events is loaded
into pandas and filtered by dashboard.filters.apply; a larger one is never loaded:
only its entities are, and every page asks core.query (DuckDB over the Parquet
files) for the few rows it draws, through the ``*_for(cur)`` functions below.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import streamlit as st

from core import Dataset, build_dataset, load_dataset, save_dataset, schemas, uploads
from core.curation import CorrectionLog, load_curated
from core.errors import DyadError, StoreError
from core.interop.export import neutralise
from core.query import StoreQuery, WithEntity
from core.schemas import DOC, ENT, EV, MEN
from core.store import PARTITION_ROWS, frame_rows, is_store, manifest_key, read_manifest
from dashboard import filters as flt
from dashboard.escape import md_escape

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = PROJECT_ROOT / "seeds"
SEEDS_STORE = PROJECT_ROOT / ".dyad" / "seeds-store"
ENV_DATA = "DYAD_DATA"
NO_EVENTS = "No events match the current filters."
TABLE_LIMIT = 5000  # rows sent to the browser per table; downloads carry everything
_CURRENT = "_dyad_current_view"
LARGE_EVENTS = PARTITION_ROWS  # above this many events the pages query DuckDB, not pandas
ENV_ENGINE = "DYAD_ENGINE"  # "duckdb" or "pandas" forces an engine (tests, benchmarks)
EXPORT_LIMIT = 200_000  # rows a download of a large store's events carries

# Column headers of the tables the pages show.
COL = SimpleNamespace(
    date="Date", actor="Actor", type="Type", mode="Mode", target="Target",
    location="Location", topics="Topics", document="Document", evidence="Evidence",
    confidence="Confidence", event_id="event_id", name="Name", entity_type="Type",
    country="Country", aliases="Aliases", mentions="Mentions", documents="Documents",
    events="Events", entity_id="entity_id", title="Title", published="Published",
    source="Source", words="Words", period="Period", group="Group", counterpart="Counterpart",
    file="File", reason="Reason", kind="Kind", doc_id="doc_id",
)
# How the map counts a country.
MAP_MODES = {
    "location": "Event location",
    "actor": "Actor's country",
    "target": "Target's country",
}
FREQS = {"day": "D", "week": "W-SUN", "month": "M"}  # W-SUN: weeks start on Monday
SPLITS = ("type", "top actors")


# --- store location and loading -----------------------------------------------------------


def store_from_args(argv: Sequence[str], env: dict[str, str]) -> tuple[Path, bool]:
    """(store folder, is the bundled seeds store) from ``--data DIR``, DYAD_DATA, or default."""
    args = list(argv)
    for i, arg in enumerate(args):
        if arg == "--data" and i + 1 < len(args):
            return Path(args[i + 1]).expanduser(), False
        if arg.startswith("--data="):
            return Path(arg.split("=", 1)[1]).expanduser(), False
    if env.get(ENV_DATA):
        return Path(env[ENV_DATA]).expanduser(), False
    return SEEDS_STORE, True


def build_store(
    sources: Sequence[str | Path], store: Path, progress: Callable[[int, int, str], None] | None
) -> Dataset:
    """Run the pipeline on the sources and save the result as the store."""
    ds = build_dataset([str(s) for s in sources], on_error="collect", progress=progress)
    save_dataset(ds, store)
    return ds


def ensure_store(store: Path, is_default: bool) -> None:
    """Build the seeds store on first start (with a progress bar); stop on a bad store."""
    if is_store(store):
        return
    if not is_default:
        st.error(f"No Dyad store at {md_escape(store)}: build one with "
                 "`python -m core build SRC --out DIR`.")
        st.stop()
    bar = st.progress(0.0, text="First start: building the dataset from the seed articles…")

    def progress(done: int, total: int, stage: str) -> None:
        bar.progress(done / max(total, 1), text=f"Building the seeds store: {stage} {done}/{total}")

    build_store([SEEDS_DIR], store, progress)
    bar.empty()


@dataclass
class Prepared:
    """A loaded store plus the lookups every page needs."""

    key: str
    ds: Dataset
    aux: flt.Aux
    options: flt.FilterOptions
    names: pd.Series  # entity_id -> name
    event_counts: pd.Series  # entity_id -> events as actor or target (whole store)
    notes: list[str] = field(default_factory=list)  # corrections that did not apply
    query: StoreQuery | None = None  # large stores: pages ask DuckDB; ds holds entities only


@st.cache_resource(max_entries=2, show_spinner="Loading the dataset…")
def _prepare(store: str, key: str, curated: bool) -> Prepared:
    # The analysts' corrections (core.curation) are an overlay replayed on load.
    ds, notes = load_curated(store) if curated else (load_dataset(store), [])
    prep = prepare(ds, key)
    prep.notes = notes
    return prep


def prepare(ds: Dataset, key: str = "") -> Prepared:
    """Lookups and widget options for a dataset (plain function: tests and bench use it)."""
    ev, ents = ds.events, ds.entities
    names = ents.set_index(ENT.entity_id)[ENT.name]
    counts = involvement(ev)
    labels = ents.assign(n_events=ents[ENT.entity_id].map(counts).fillna(0))
    labels = labels.sort_values(["n_events", ENT.name], ascending=[False, True])
    actor_labels = {
        eid: _entity_label(name, etype, country, int(n))
        for eid, name, etype, country, n in zip(
            labels[ENT.entity_id], labels[ENT.name], labels[ENT.type], labels[ENT.country],
            labels["n_events"], strict=True,
        )
    }
    aux = flt.make_aux(ds)
    countries = pd.concat([ev[EV.location], aux.actor_country, aux.target_country]).dropna()
    dates = ev[EV.date].dropna()
    options = flt.FilterOptions(
        actors=actor_labels,
        topics=sorted(aux.topic_rows.unique().tolist()),
        countries=sorted(countries.unique().tolist()),
        types=sorted(ev[EV.type].unique().tolist()),
        date_min=dates.min().date() if len(dates) else None,
        date_max=dates.max().date() if len(dates) else None,
    )
    return Prepared(key, ds, aux, options, names, counts)


def _entity_label(name: str, etype: str, country: Any, n: int) -> str:
    where = f", {country}" if isinstance(country, str) else ""
    return f"{name} ({etype.lower()}{where}) · {n}"


def involvement(events: pd.DataFrame) -> pd.Series:
    """Events per entity, as actor or target."""
    return pd.concat([events[EV.actor_id], events[EV.target_id]]).dropna().value_counts()


def engine(store: Path, env: dict[str, str] | None = None) -> str:
    """"duckdb" for a store above LARGE_EVENTS events (or when DYAD_ENGINE says so)."""
    forced = (env if env is not None else os.environ).get(ENV_ENGINE, "")
    if forced in ("duckdb", "pandas"):
        return forced
    return "duckdb" if frame_rows(store, "events") > LARGE_EVENTS else "pandas"


def prepare_large(store: Path, key: str = "") -> Prepared:
    """A large store: entities in pandas (widget options, names), everything else in DuckDB."""
    q = StoreQuery(store)
    manifest = read_manifest(store)
    ents = schemas.validate("entities", q.sql("SELECT * FROM entities"))
    empty = {f: schemas.empty_frame(f) for f in ("documents", "mentions", "events", "edges")}
    ds = Dataset(**empty, entities=ents, errors=list(manifest.get("errors", [])),
                 manifest=manifest)
    names = ents.set_index(ENT.entity_id)[ENT.name]
    counts = q.involvement(flt.Filters()).sort_values(ascending=False)
    labels = ents.assign(n_events=ents[ENT.entity_id].map(counts).fillna(0))
    labels = labels.sort_values(["n_events", ENT.name], ascending=[False, True])
    span = q.sql(f"SELECT min({EV.date}) AS lo, max({EV.date}) AS hi FROM events").iloc[0]
    countries = q.sql(f"""SELECT DISTINCT c FROM (SELECT {EV.location} AS c FROM events UNION
        SELECT {ENT.country} FROM entities WHERE {ENT.entity_id} IN (SELECT {EV.actor_id}
        FROM events UNION SELECT {EV.target_id} FROM events)) WHERE c IS NOT NULL""")["c"]
    options = flt.FilterOptions(
        actors={
            eid: _entity_label(name, etype, country, int(n))
            for eid, name, etype, country, n in zip(
                labels[ENT.entity_id], labels[ENT.name], labels[ENT.type],
                labels[ENT.country], labels["n_events"], strict=True,
            )
        },
        topics=sorted(q.sql(f"SELECT DISTINCT unnest({EV.topics}) AS t FROM events")["t"]
                      .dropna().tolist()),
        countries=sorted(countries.tolist()),
        types=sorted(q.sql(f"SELECT DISTINCT {EV.type} AS t FROM events")["t"].tolist()),
        date_min=span["lo"].date() if pd.notna(span["lo"]) else None,
        date_max=span["hi"].date() if pd.notna(span["hi"]) else None,
    )
    return Prepared(key, ds, None, options, names, counts, query=q)  # type: ignore[arg-type]


@st.cache_resource(max_entries=2, show_spinner="Opening the store…")
def _prepare_large(store: str, key: str, curated: bool) -> Prepared:
    prep = prepare_large(Path(store), key)
    if curated:
        prep.notes = ["This store is served by DuckDB (it is large): corrections are not "
                      "applied to its pages yet."]
    return prep


def load(store: Path) -> Prepared:
    """The prepared store, read again only when its manifest key changes."""
    log = CorrectionLog(store).version()
    try:
        key = f"{manifest_key(store)}:{log}"
        if engine(store) == "duckdb":
            return _prepare_large(str(store), key, log != "empty")
        return _prepare(str(store), key, log != "empty")
    except DyadError as exc:
        st.error(f"The store cannot be read: {md_escape(exc)}")
        st.stop()
        raise  # st.stop raises; this keeps type checkers calm


@st.cache_resource(max_entries=32, show_spinner=False)
def _filtered(store: str, key: str, fkey: str, _prep: Prepared, _f: flt.Filters) -> flt.Filtered:
    return flt.apply(_prep.ds, _f, _prep.aux)


@dataclass
class LargeView:
    """The filtered view of a large store: nothing is loaded; pages ask for what they draw."""

    query: StoreQuery
    filters: flt.Filters
    key: str  # store key + filters: the cache key of every answer
    n_events: int


@st.cache_data(max_entries=512, show_spinner=False)
def _ask(key: str, method: str, args: tuple, _q: StoreQuery, _f: Any) -> Any:
    # One cache for every DuckDB answer: (store+filters, method, args) -> small frame.
    return getattr(_q, method)(_f, *args)


def ask(view: LargeView, method: str, *args: Any, f: Any = None) -> Any:
    """``view.query.method(filters, *args)``, cached per store, filters and arguments."""
    f = view.filters if f is None else f
    return _ask(f"{view.key}|{f!r}", method, args, view.query, f)


def filtered(store: Path, prep: Prepared, f: flt.Filters) -> flt.Filtered | LargeView:
    if prep.query is not None:
        key = f"{prep.key}|{f.cache_key()}"
        return LargeView(prep.query, f, key, _ask(key, "count", (), prep.query, f))
    return _filtered(str(store), prep.key, f.cache_key(), prep, f)


@dataclass
class Current:
    """What the page being drawn works on."""

    store: Path
    prep: Prepared
    filters: flt.Filters
    view: flt.Filtered | LargeView

    @property
    def large(self) -> bool:
        return isinstance(self.view, LargeView)


def set_current(cur: Current) -> None:
    st.session_state[_CURRENT] = cur


def current() -> Current:
    """The store, filters and filtered frames app.py set up for this run."""
    return st.session_state[_CURRENT]


def n_events(cur: Current) -> int:
    view = cur.view
    return view.n_events if isinstance(view, LargeView) else len(view.events)


def stop_if_no_events(cur: Current) -> None:
    """Every page says the same thing when nothing matches, instead of a blank chart."""
    if n_events(cur) == 0:
        st.info(NO_EVENTS, icon="🔎")
        st.stop()


# --- overview -----------------------------------------------------------------------------


def key_figures(view: flt.Filtered, aux: flt.Aux) -> dict[str, str]:
    ev = view.events
    countries = pd.concat(
        [ev[EV.location], aux.actor_country.reindex(ev.index), aux.target_country.reindex(ev.index)]
    ).dropna()
    dates = ev[EV.date].dropna()
    first, last = (dates.min(), dates.max()) if len(dates) else (None, None)
    return _figures(len(view.documents), len(ev), len(view.entities), countries.nunique(),
                    first, last)


def _figures(docs: int, events: int, ents: int, countries: int, first: Any, last: Any
             ) -> dict[str, str]:
    days = (last - first).days + 1 if pd.notna(first) else 0
    return {
        "Documents": f"{docs:,}",
        "Events": f"{events:,}",
        "Entities": f"{ents:,}",
        "Countries": f"{countries:,}",
        "Date span": f"{days:,} day{'s' if days != 1 else ''}",
    }


def key_figures_for(cur: Current) -> dict[str, str]:
    if not isinstance(cur.view, LargeView):
        return key_figures(cur.view, cur.prep.aux)
    s = ask(cur.view, "summary")
    return _figures(s["documents"], s["events"], s["entities"], s["countries"], s["first"],
                    s["last"])


def date_caption(view: flt.Filtered) -> str:
    """The first and last event dates, and how many events have none."""
    dates = view.events[EV.date]
    known = dates.dropna()
    return _date_text(known.min() if len(known) else None, known.max() if len(known) else None,
                      int(dates.isna().sum()))


def _date_text(first: Any, last: Any, undated: int) -> str:
    text = (f"Events dated {first:%Y-%m-%d} to {last:%Y-%m-%d}"
            if pd.notna(first) else "No event has a date")
    return f"{text}; {undated:,} without a date." if undated else f"{text}."


def date_caption_for(cur: Current) -> str:
    if not isinstance(cur.view, LargeView):
        return date_caption(cur.view)
    s = ask(cur.view, "summary")
    return _date_text(s["first"], s["last"], s["undated"])


def undated_for(cur: Current) -> int:
    """Matching events without a date."""
    if not isinstance(cur.view, LargeView):
        return int(cur.view.events[EV.date].isna().sum())
    return int(ask(cur.view, "summary")["undated"])


def top_actors(prep: Prepared, view: flt.Filtered | LargeView, n: int = 10) -> pd.DataFrame:
    if isinstance(view, LargeView):
        top = ask(view, "top_actors", n)
        counts = pd.Series(top["n"].to_numpy(), index=pd.Index(top["entity_id"]))
    else:
        counts = view.events[EV.actor_id].value_counts().head(n)
    ents = prep.ds.entities.set_index(ENT.entity_id)
    return pd.DataFrame({
        COL.actor: counts.index.map(prep.names),
        COL.entity_type: counts.index.map(ents[ENT.type]),
        COL.country: counts.index.map(ents[ENT.country]),
        COL.events: counts.to_numpy(),
    })


def events_by_type(view: flt.Filtered | LargeView) -> pd.DataFrame:
    if isinstance(view, LargeView):
        counts = ask(view, "counts_by_type")
        return pd.DataFrame({COL.type: counts["type"], COL.events: counts["n"].to_numpy()})
    counts = view.events[EV.type].value_counts()
    return pd.DataFrame({COL.type: counts.index, COL.events: counts.to_numpy()})


# --- events -------------------------------------------------------------------------------


def events_table(prep: Prepared, events: pd.DataFrame, limit: int = TABLE_LIMIT) -> pd.DataFrame:
    """Readable rows, newest first; event_id kept (hidden by the page) to find the row again."""
    ev = events.sort_values(EV.date, ascending=False, na_position="last").head(limit)
    titles = prep.ds.documents.set_index(DOC.doc_id)[DOC.title]
    return _readable(prep, ev, ev[EV.doc_id].map(titles))


def _readable(prep: Prepared, ev: pd.DataFrame, titles: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({
        COL.date: ev[EV.date].dt.date,
        COL.actor: ev[EV.actor_id].map(prep.names),
        COL.type: ev[EV.type],
        COL.mode: ev[EV.mode],
        COL.target: ev[EV.target_id].map(prep.names),
        COL.location: ev[EV.location],
        COL.topics: ev[EV.topics].map(", ".join),
        COL.document: titles.to_numpy(),
        COL.confidence: ev[EV.confidence],
        COL.event_id: ev[EV.event_id],
    }).reset_index(drop=True)


def events_table_for(cur: Current, limit: int = TABLE_LIMIT) -> pd.DataFrame:
    """The events page's table (newest first, at most ``limit`` rows)."""
    if not isinstance(cur.view, LargeView):
        return events_table(cur.prep, cur.view.events, limit)
    return _large_table(cur.prep, ask(cur.view, "events", limit, 0))


def _large_table(prep: Prepared, rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.assign(**{EV.topics: rows[EV.topics].map(list)})
    return _readable(prep, rows, rows["doc_title"])


def event_by_id_for(cur: Current, event_id: str) -> pd.Series | None:
    if not isinstance(cur.view, LargeView):
        return event_by_id(cur.view, event_id)
    return cur.view.query.event(event_id)


def events_export_for(cur: Current) -> pd.DataFrame:
    """What the events download holds (a large store's: the newest EXPORT_LIMIT)."""
    if not isinstance(cur.view, LargeView):
        return events_export(cur.prep, cur.view.events)
    rows = cur.view.query.events(cur.filters, limit=EXPORT_LIMIT, full=True)
    rows = rows.drop(columns=["doc_title"])
    return events_export(cur.prep, rows.assign(**{EV.topics: rows[EV.topics].map(list)}))


def _name_spans(text: str, names: Sequence[str]) -> list[tuple[int, int]]:
    spans = []
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(name), text, re.I)]
    return spans


def evidence_html(prep: Prepared, event: pd.Series) -> str:
    """The evidence sentence as HTML, actor/target/trigger marked; every text piece escaped."""
    text = str(event[EV.evidence])
    base = int(event[EV.evidence_start])
    marks: list[tuple[int, int, str]] = []
    t0, t1 = int(event[EV.trigger_start]) - base, int(event[EV.trigger_end]) - base
    if 0 <= t0 < t1 <= len(text):
        marks.append((t0, t1, "trigger"))
    if prep.query is not None:
        here = prep.query.mentions_in(str(event[EV.doc_id]), base, base + len(text))
    else:
        men = prep.ds.mentions
        here = men[(men[MEN.doc_id] == event[EV.doc_id]) & (men[MEN.start] >= base)
                   & (men[MEN.end] <= base + len(text))]
    ents = prep.ds.entities.set_index(ENT.entity_id)
    for role, col in (("actor", EV.actor_id), ("target", EV.target_id)):
        eid = event[col]
        if not isinstance(eid, str):
            continue
        spans = [(s - base, e - base) for s, e in
                 here.loc[here[MEN.entity_id] == eid, [MEN.start, MEN.end]].itertuples(index=False)]
        if not spans and eid in ents.index:  # no mention stored: look for the name itself
            spans = _name_spans(text, [ents.at[eid, ENT.name], *ents.at[eid, ENT.aliases]])
        marks += [(s, e, role) for s, e in spans]
    return highlight(text, marks)


_MARK_STYLE = {
    "actor": "background:#cfe8ff;border-radius:3px;padding:0 2px",
    "target": "background:#ffe0b3;border-radius:3px;padding:0 2px",
    "trigger": "background:#d6f5d6;border-radius:3px;padding:0 2px;font-weight:600",
}


def highlight(text: str, marks: Sequence[tuple[int, int, str]]) -> str:
    """Escaped text with non-overlapping marks wrapped in <mark> (first mark wins a clash)."""
    out, pos = [], 0
    for start, end, role in sorted(marks, key=lambda m: (m[0], -(m[1] - m[0]))):
        if start < pos:
            continue
        out.append(html.escape(text[pos:start]))
        out.append(
            f'<mark class="dyad-{role}" title="{role}" style="{_MARK_STYLE[role]}">'
            f"{html.escape(text[start:end])}</mark>"
        )
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def event_by_id(view: flt.Filtered, event_id: str) -> pd.Series | None:
    rows = view.events[view.events[EV.event_id] == event_id]
    return None if rows.empty else rows.iloc[0]


def events_export(prep: Prepared, events: pd.DataFrame) -> pd.DataFrame:
    """The contract's event columns plus readable actor and target names."""
    out = events.copy()
    out.insert(out.columns.get_loc(EV.actor_id) + 1, "actor_name", out[EV.actor_id].map(prep.names))
    out.insert(out.columns.get_loc(EV.target_id) + 1, "target_name",
               out[EV.target_id].map(prep.names))
    return out


def document_caption(doc: pd.Series) -> str:
    published = doc[DOC.published]
    when = f"published {published:%Y-%m-%d}" if pd.notna(published) else "no publication date"
    return f"{md_escape(doc[DOC.source])} · {when} · {doc[DOC.n_words]:,} words"


def entity_caption(ent: pd.Series) -> str:
    parts = [str(ent[ENT.type]).lower()]
    if isinstance(ent[ENT.country], str):
        parts.append(ent[ENT.country])
    if len(ent[ENT.aliases]):
        parts.append("also: " + ", ".join(ent[ENT.aliases]))
    if len(ent[ENT.roles]):
        parts.append(", ".join(ent[ENT.roles]))
    return " · ".join(md_escape(p) for p in parts)


def document(prep: Prepared, doc_id: str) -> pd.Series | None:
    if prep.query is not None:
        return prep.query.document(doc_id)
    docs = prep.ds.documents
    rows = docs[docs[DOC.doc_id] == doc_id]
    return None if rows.empty else rows.iloc[0]


# --- entities -----------------------------------------------------------------------------


def entities_table(view: flt.Filtered) -> pd.DataFrame:
    ents = view.entities
    n_events = involvement(view.events)
    n_mentions = view.mentions[MEN.entity_id].value_counts()
    n_docs = view.mentions.groupby(MEN.entity_id)[MEN.doc_id].nunique()
    out = pd.DataFrame({
        COL.name: ents[ENT.name],
        COL.entity_type: ents[ENT.type],
        COL.country: ents[ENT.country],
        COL.aliases: ents[ENT.aliases].map(", ".join),
        COL.mentions: ents[ENT.entity_id].map(n_mentions).fillna(0).astype(int),
        COL.documents: ents[ENT.entity_id].map(n_docs).fillna(0).astype(int),
        COL.events: ents[ENT.entity_id].map(n_events).fillna(0).astype(int),
        COL.entity_id: ents[ENT.entity_id],
    })
    return out.sort_values([COL.events, COL.mentions], ascending=False).reset_index(drop=True)


def entities_table_for(cur: Current) -> pd.DataFrame:
    if not isinstance(cur.view, LargeView):
        return entities_table(cur.view)
    stats = ask(cur.view, "entity_stats")
    ents = cur.prep.ds.entities.set_index(ENT.entity_id).reindex(stats["entity_id"])
    return pd.DataFrame({
        COL.name: ents[ENT.name].to_numpy(),
        COL.entity_type: ents[ENT.type].to_numpy(),
        COL.country: ents[ENT.country].to_numpy(),
        COL.aliases: ents[ENT.aliases].map(", ".join, na_action="ignore").to_numpy(),
        COL.mentions: stats["n_mentions"].astype(int).to_numpy(),
        COL.documents: stats["n_documents"].astype(int).to_numpy(),
        COL.events: stats["n_events"].astype(int).to_numpy(),
        COL.entity_id: stats["entity_id"].to_numpy(),
    })


def entities_export_for(cur: Current) -> pd.DataFrame:
    if not isinstance(cur.view, LargeView):
        return cur.view.entities
    ents = cur.prep.ds.entities
    return ents[ents[ENT.entity_id].isin(ask(cur.view, "entity_stats")["entity_id"])]


@dataclass
class Profile:
    entity: pd.Series
    events: pd.DataFrame  # events_table rows
    counterparts: pd.DataFrame
    documents: pd.DataFrame
    timeline: pd.DataFrame


def entity_profile(prep: Prepared, view: flt.Filtered, entity_id: str) -> Profile:
    ents = prep.ds.entities
    entity = ents[ents[ENT.entity_id] == entity_id].iloc[0]
    ev = view.events
    mine = ev[(ev[EV.actor_id] == entity_id) | (ev[EV.target_id] == entity_id)]
    other = mine[EV.target_id].where(mine[EV.actor_id] == entity_id, mine[EV.actor_id]).dropna()
    counts = other.value_counts()
    counterparts = pd.DataFrame({
        COL.counterpart: counts.index.map(prep.names), COL.events: counts.to_numpy()
    })
    docs = prep.ds.documents[prep.ds.documents[DOC.doc_id].isin(mine[EV.doc_id])]
    return Profile(
        entity=entity,
        events=events_table(prep, mine),
        counterparts=counterparts,
        documents=documents_table(docs),
        timeline=timeline(prep, mine, "month", "type"),
    )


def entity_profile_for(cur: Current, entity_id: str) -> Profile:
    if not isinstance(cur.view, LargeView):
        return entity_profile(cur.prep, cur.view, entity_id)
    prep, view = cur.prep, cur.view
    mine = WithEntity(view.filters, entity_id)
    ents = prep.ds.entities
    counts = ask(view, "counterparts", entity_id, f=mine)
    docs = ask(view, "documents", TABLE_LIMIT, f=mine)
    return Profile(
        entity=ents[ents[ENT.entity_id] == entity_id].iloc[0],
        events=_large_table(prep, ask(view, "events", TABLE_LIMIT, 0, f=mine)),
        counterparts=pd.DataFrame({COL.counterpart: counts["entity_id"].map(prep.names),
                                   COL.events: counts["n"].to_numpy()}),
        documents=documents_table(docs),
        timeline=_large_timeline(prep, ask(view, "timeline", "month", "type", f=mine), "type"),
    )


# --- map and timeline ---------------------------------------------------------------------


def country_counts(aux: flt.Aux, events: pd.DataFrame, by: str) -> pd.DataFrame:
    """Events per ISO3 country, counted by location, actor's or target's country."""
    series = {
        "location": events[EV.location],
        "actor": aux.actor_country.reindex(events.index),
        "target": aux.target_country.reindex(events.index),
    }[by]
    counts = series.dropna().value_counts()
    return pd.DataFrame({COL.country: counts.index, COL.events: counts.to_numpy()})


def country_counts_for(cur: Current, by: str) -> pd.DataFrame:
    if not isinstance(cur.view, LargeView):
        return country_counts(cur.prep.aux, cur.view.events, by)
    counts = ask(cur.view, "country_counts", by)
    return pd.DataFrame({COL.country: counts["country"], COL.events: counts["n"].to_numpy()})


def timeline_for(cur: Current, freq: str, split: str, top: int = 8) -> pd.DataFrame:
    if not isinstance(cur.view, LargeView):
        return timeline(cur.prep, cur.view.events, freq, split, top)
    return _large_timeline(cur.prep, ask(cur.view, "timeline", freq, split, top), split)


def _legend_text(name: str) -> str:
    # Plotly reads a few tags (<b>, <a href>) in legend text but decodes only &lt; &gt; &amp;
    # back: quotes stay as typed, or a name would show "&quot;".
    return html.escape(name, quote=False)


def _large_timeline(prep: Prepared, rows: pd.DataFrame, split: str) -> pd.DataFrame:
    group = rows["group"]
    if split != "type":
        group = group.map(prep.names).map(_legend_text, na_action="ignore").fillna("Other")
    out = pd.DataFrame({COL.period: pd.to_datetime(rows["period"]), COL.group: group,
                        COL.events: rows["n"].astype("int64")})
    # Several actor ids may fall into "Other": one bar per period and group, as in pandas.
    return out.groupby([COL.period, COL.group], as_index=False)[COL.events].sum()


def timeline(prep: Prepared, events: pd.DataFrame, freq: str, split: str, top: int = 8
             ) -> pd.DataFrame:
    """Events per period (day/week/month) and group (event type, or top actors + Other)."""
    ev = events[events[EV.date].notna()]
    if split == "type":
        group = ev[EV.type]
    else:
        leaders = ev[EV.actor_id].value_counts().head(top).index
        group = ev[EV.actor_id].where(ev[EV.actor_id].isin(leaders)).map(prep.names)
        # Plotly reads a few HTML tags (<a href>, <b>) in legend text: names are escaped.
        group = group.map(_legend_text, na_action="ignore").fillna("Other")
    period = ev[EV.date].dt.to_period(FREQS[freq]).dt.start_time
    out = (
        pd.DataFrame({COL.period: period, COL.group: group})
        .groupby([COL.period, COL.group]).size().rename(COL.events).reset_index()
    )
    return out


# --- sources ------------------------------------------------------------------------------


def documents_table(docs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        COL.title: docs[DOC.title],
        COL.published: docs[DOC.published].dt.date,
        COL.source: docs[DOC.source],
        COL.words: docs[DOC.n_words],
        COL.doc_id: docs[DOC.doc_id],
    }).reset_index(drop=True)


def documents_for(cur: Current) -> pd.DataFrame:
    if not isinstance(cur.view, LargeView):
        return documents_table(cur.view.documents)
    return documents_table(ask(cur.view, "documents", TABLE_LIMIT))


def errors_table(errors: Sequence[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame({
        COL.file: [e.get("file") for e in errors],
        COL.reason: [e.get("reason") for e in errors],
        COL.kind: [e.get("kind") for e in errors],
    })


def uploads_root(store: Path) -> Path:
    """Upload batches live beside the store (the store folder itself is rewritten by builds)."""
    return store.parent / f"{store.name}-uploads"


def upload_types() -> list[str]:
    """Extensions the uploader offers: what core.uploads accepts (articles and .zip)."""
    return [ext.lstrip(".") for ext in uploads.ALLOWED_EXTENSIONS]


def receive_uploads(store: Path, files: Sequence[tuple[str, bytes]]) -> uploads.UploadBatch:
    """Check and save one batch (core.uploads does the safety work); raise UploadError."""
    return uploads.receive(files, uploads_root(store))


def build_uploads(store: Path, batch: uploads.UploadBatch,
                  progress: Callable[[int, int, str], None] | None = None) -> Dataset:
    """Rebuild the store from its recorded sources plus the batch, as a new version."""
    return uploads.build_upload(batch, store, progress=progress)


def rebuild(store: Path, progress: Callable[[int, int, str], None] | None = None) -> Dataset:
    """Rebuild the store from the sources its manifest records (after a pipeline update)."""
    sources = uploads.recorded_sources(store)
    if not sources:
        raise StoreError("the store records no source folders to rebuild from", store)
    return build_store(sources, store, progress)


# --- downloads ----------------------------------------------------------------------------

def _flat(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object and out[col].map(lambda v: isinstance(v, list)).any():
            out[col] = out[col].map(lambda v: "; ".join(v) if isinstance(v, list) else v)
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV safe to open in a spreadsheet: list cells joined, formula-like cells quoted."""
    out = _flat(df)
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    buf = io.StringIO()
    out.to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")


def json_bytes(df: pd.DataFrame) -> bytes:
    return df.to_json(orient="records", date_format="iso", force_ascii=False, indent=1).encode()


def manifest_text(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False, default=str)


# --- network ------------------------------------------------------------------------------


@st.cache_resource(max_entries=16, show_spinner="Laying out the network…")
def _network(key: str, fkey: str, params: tuple, _prep: Prepared, _view: flt.Filtered
             ) -> Any:
    from dashboard.components import network

    min_weight, limit, color_by, physics, co_mentions = params
    g, notice = network.build_graph(
        _view.entities, _view.edges, _view.events, min_weight=min_weight, limit=limit,
        color_by=color_by, co_mentions=co_mentions,
    )
    return g, notice, network.to_html(g, physics=physics)


@st.cache_resource(max_entries=16, show_spinner="Laying out the network…")
def _large_network(key: str, params: tuple, _prep: Prepared, _view: LargeView) -> Any:
    from dashboard.components import network

    min_weight, limit, color_by, physics, co_mentions = params
    # DuckDB sums the pairs and keeps the busiest entities; pandas only draws what is left.
    edges, counts, total = _view.query.network(_view.filters, min_weight, limit, co_mentions)
    ents = _prep.ds.entities
    g, _ = network.build_graph(
        ents[ents[ENT.entity_id].isin(counts.index)], edges,
        schemas.empty_frame("events"), min_weight=min_weight, limit=limit, color_by=color_by,
        co_mentions=co_mentions,
    )
    for node in g.nodes:
        g.nodes[node]["events"] = int(counts.get(node, 0))
    notice = None
    if total > limit:
        notice = (f"Showing the {limit:,} entities with most events out of {total:,}; "
                  "raise the node limit or the minimum weight to see others.")
    return g, notice, network.to_html(g, physics=physics)


def network(cur: Current, min_weight: int, limit: int, color_by: str, physics: bool,
            co_mentions: bool) -> tuple[Any, str | None, str]:
    """(networkx graph, notice when nodes were cut, self-contained HTML)."""
    params = (min_weight, limit, color_by, physics, co_mentions)
    if isinstance(cur.view, LargeView):
        return _large_network(cur.view.key, params, cur.prep, cur.view)
    return _network(cur.prep.key, cur.filters.cache_key(), params, cur.prep, cur.view)
