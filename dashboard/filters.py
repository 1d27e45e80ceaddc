"""The global filters: one Filters value, one apply(), bound to the URL query string.

Every page shows ``apply(dataset, filters)``; the sidebar widgets and the URL
(``?actor=e_...&type=CONSULT&from=2025-01-01``) are two views of the same Filters,
so a copied URL reproduces the view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd
import streamlit as st

from core import Dataset
from core.schemas import DOC, EDGE, ENT, EV, MEN
from dashboard.escape import md_escape

# URL query-parameter names (short and stable: they end up in shared links).
PARAM = SimpleNamespace(
    actors="actor", topics="topic", countries="country", types="type",
    date_from="from", date_to="to", text="q",
)
# Widget keys of the sidebar.
KEY = SimpleNamespace(
    actors="filter_actor", topics="filter_topic", countries="filter_country",
    types="filter_type", date_from="filter_from", date_to="filter_to", text="filter_text",
    clear="filter_clear",
)
KEEP_PARAMS = ("embed", "embed_options")
_BOUND = "_filters_bound_to_url"
_WARNINGS = "_filters_url_warnings"
MAX_TEXT = 200  # longest free-text query taken from a URL
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2100, 12, 31)


@dataclass(frozen=True)
class Filters:
    """What the analyst narrowed the events to; empty fields do not filter."""

    actors: tuple[str, ...] = ()  # entity ids; an event matches as actor or target
    topics: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # ISO3; matches actor/target country or location
    types: tuple[str, ...] = ()  # PLOVER types
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""  # case-insensitive substring of the evidence sentence

    def is_empty(self) -> bool:
        return self == Filters()

    def cache_key(self) -> str:
        return repr(self)


@dataclass
class FilterOptions:
    """The values the widgets offer (and the URL may name), taken from the dataset."""

    actors: dict[str, str] = field(default_factory=dict)  # entity_id -> label, busiest first
    topics: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    date_min: date | None = None
    date_max: date | None = None


@dataclass
class Filtered:
    """The five frames after filtering, consistent with one another."""

    documents: pd.DataFrame
    mentions: pd.DataFrame
    entities: pd.DataFrame
    events: pd.DataFrame
    edges: pd.DataFrame


@dataclass
class Aux:
    """Integer codes computed once per store, so that apply() is numpy work, not string work.

    Every ``*_code`` array is aligned with the rows of its frame; -1 means "no value",
    and the boolean masks apply() builds carry one extra False slot for it.
    """

    actor_country: pd.Series  # ISO3 of each event's actor (aligned with events.index)
    target_country: pd.Series
    topic_rows: pd.Series  # exploded topics: index = events.index, value = topic
    actor_code: np.ndarray  # event -> entity position
    target_code: np.ndarray
    doc_code: np.ndarray  # event -> document position
    men_entity_code: np.ndarray  # mention -> entity position
    men_doc_code: np.ndarray  # mention -> document position
    edge_pos: np.ndarray  # one row per (edge, event id) pair: the edge's position ...
    edge_event: np.ndarray  # ... and the event's position
    edge_source: np.ndarray  # edge -> entity position
    edge_target: np.ndarray
    event_ids: np.ndarray  # event position -> event_id
    values: dict[str, tuple[pd.Index, np.ndarray]]  # column -> (vocabulary, codes)


def _codes(values: pd.Series | pd.Index) -> tuple[pd.Index, np.ndarray]:
    codes, vocab = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    return pd.Index(vocab), codes


def make_aux(ds: Dataset) -> Aux:
    ev, ents, docs = ds.events, ds.entities, ds.documents
    ent_index = pd.Index(ents[ENT.entity_id].astype(object))
    doc_index = pd.Index(docs[DOC.doc_id].astype(object))
    ev_index = pd.Index(ev[EV.event_id].astype(object))
    country = ents.set_index(ENT.entity_id)[ENT.country]
    actor_country = ev[EV.actor_id].map(country)
    target_country = ev[EV.target_id].map(country)
    topic_rows = ev[EV.topics].explode().dropna()
    pairs = ds.edges[EDGE.event_ids].reset_index(drop=True).explode().dropna()

    def idx(index: pd.Index, col: pd.Series) -> np.ndarray:
        return index.get_indexer(col.astype(object))

    return Aux(
        actor_country=actor_country,
        target_country=target_country,
        topic_rows=topic_rows,
        actor_code=idx(ent_index, ev[EV.actor_id]),
        target_code=idx(ent_index, ev[EV.target_id]),
        doc_code=idx(doc_index, ev[EV.doc_id]),
        men_entity_code=idx(ent_index, ds.mentions[MEN.entity_id]),
        men_doc_code=idx(doc_index, ds.mentions[MEN.doc_id]),
        edge_pos=pairs.index.to_numpy(dtype=np.int64),
        edge_event=idx(ev_index, pairs),
        edge_source=idx(ent_index, ds.edges[EDGE.source_id]),
        edge_target=idx(ent_index, ds.edges[EDGE.target_id]),
        event_ids=ev_index.to_numpy(dtype=object),
        values={
            EV.type: _codes(ev[EV.type]),
            EV.location: _codes(ev[EV.location]),
            "actor_country": _codes(actor_country),
            "target_country": _codes(target_country),
            "topic": _codes(topic_rows),
        },
    )


def _mask(size: int, positions: np.ndarray) -> np.ndarray:
    """A boolean mask over ``size`` rows plus the False slot that code -1 lands on."""
    out = np.zeros(size + 1, dtype=bool)
    out[positions] = True
    out[-1] = False
    return out


def _isin(aux: Aux, column: str, chosen: Sequence[str]) -> np.ndarray:
    vocab, codes = aux.values[column]
    wanted = vocab.get_indexer(list(chosen))
    return np.isin(codes, wanted[wanted >= 0])


def apply(ds: Dataset, f: Filters, aux: Aux | None = None) -> Filtered:
    """The events matching every filter, and the rest of the data that goes with them.

    Entities are those acting or targeted in the events, documents those holding
    them, mentions those of these entities in these documents, and edges those
    built from these events (their weight recounted over the shown events).
    With no filter set the whole dataset is shown, unconnected entities included.
    """
    if f.is_empty():
        return Filtered(ds.documents, ds.mentions, ds.entities, ds.events, ds.edges)
    aux = aux or make_aux(ds)
    ev = ds.events
    keep = np.ones(len(ev), dtype=bool)
    if f.actors:
        wanted = pd.Index(ds.entities[ENT.entity_id].astype(object)).get_indexer(list(f.actors))
        wanted = wanted[wanted >= 0]
        keep &= np.isin(aux.actor_code, wanted) | np.isin(aux.target_code, wanted)
    if f.types:
        keep &= _isin(aux, EV.type, f.types)
    if f.countries:
        keep &= (
            _isin(aux, EV.location, f.countries)
            | _isin(aux, "actor_country", f.countries)
            | _isin(aux, "target_country", f.countries)
        )
    if f.topics:
        rows = aux.topic_rows.index.to_numpy()[_isin(aux, "topic", f.topics)]
        keep &= ev.index.isin(rows)
    if f.date_from is not None or f.date_to is not None:
        dates = ev[EV.date].to_numpy()
        valid = ~np.isnat(dates)
        if f.date_from is not None:
            valid &= dates >= np.datetime64(f.date_from, "ns")
        if f.date_to is not None:
            valid &= dates < np.datetime64(f.date_to, "ns") + np.timedelta64(1, "D")
        keep &= valid
    if f.text:
        keep &= ev[EV.evidence].str.contains(f.text, case=False, regex=False, na=False).to_numpy(
            dtype=bool
        )
    rows = np.flatnonzero(keep)
    events = ev.iloc[rows]

    n_ent, n_doc = len(ds.entities), len(ds.documents)
    ent_mask = _mask(n_ent, np.concatenate([aux.actor_code[rows], aux.target_code[rows]]))
    doc_mask = _mask(n_doc, aux.doc_code[rows])
    men_keep = ent_mask[aux.men_entity_code] & doc_mask[aux.men_doc_code]
    return Filtered(
        documents=ds.documents[doc_mask[:n_doc]],
        mentions=ds.mentions[men_keep],
        entities=ds.entities[ent_mask[:n_ent]],
        events=events,
        edges=_edges(ds.edges, aux, keep, ent_mask),
    )


def _edges(edges: pd.DataFrame, aux: Aux, keep: np.ndarray, ent_mask: np.ndarray
           ) -> pd.DataFrame:
    if edges.empty:
        return edges
    n = len(edges)
    ev_mask = np.append(keep, False)
    shown = ev_mask[aux.edge_event]
    total = np.bincount(aux.edge_pos, minlength=n)
    counts = np.bincount(aux.edge_pos[shown], minlength=n)
    # Edges without events (co-mentions) stay when both ends are shown.
    eventless = (total == 0) & ent_mask[aux.edge_source] & ent_mask[aux.edge_target]
    kept = (counts > 0) | eventless
    out = edges[kept].copy()
    out[EDGE.weight] = np.where(total[kept] > 0, counts[kept], out[EDGE.weight].to_numpy())
    partial = (counts[kept] > 0) & (counts[kept] < total[kept])
    if partial.any():  # only edges some of whose events are hidden need new id lists
        kept_pos = np.flatnonzero(kept)
        is_partial = np.zeros(n, dtype=bool)
        is_partial[kept_pos[partial]] = True
        sel = shown & is_partial[aux.edge_pos]
        pos, names = aux.edge_pos[sel], aux.event_ids[aux.edge_event[sel]]
        cuts = np.flatnonzero(np.diff(pos)) + 1  # pairs are ordered by edge position
        groups = dict(zip(pos[np.r_[0, cuts]].tolist(), np.split(names, cuts), strict=True))
        ids = list(out[EDGE.event_ids])
        for i in np.flatnonzero(partial):
            ids[i] = groups[kept_pos[i]].tolist()
        out[EDGE.event_ids] = ids
    return out


# --- URL binding ---------------------------------------------------------------------------


def to_query_params(f: Filters) -> dict[str, list[str] | str]:
    """The non-empty filters as URL query parameters."""
    out: dict[str, list[str] | str] = {}
    for name in ("actors", "topics", "countries", "types"):
        if getattr(f, name):
            out[getattr(PARAM, name)] = list(getattr(f, name))
    if f.date_from:
        out[PARAM.date_from] = f.date_from.isoformat()
    if f.date_to:
        out[PARAM.date_to] = f.date_to.isoformat()
    if f.text:
        out[PARAM.text] = f.text
    return out


def parse_query_params(
    params: Mapping[str, Sequence[str]], options: FilterOptions
) -> tuple[Filters, list[str]]:
    """Filters from URL parameters (name -> values); what cannot be used becomes a warning."""
    warnings: list[str] = []
    values: dict[str, object] = {}
    choices = {
        "actors": options.actors, "topics": options.topics,
        "countries": options.countries, "types": options.types,
    }
    for name, allowed in choices.items():
        given = [v for v in params.get(getattr(PARAM, name), []) if v != ""]
        good = tuple(dict.fromkeys(v for v in given if v in allowed))
        bad = [v for v in given if v not in allowed]
        if bad:
            shown = ", ".join(repr(v[:40]) for v in bad[:5])
            warnings.append(
                f"URL parameter '{getattr(PARAM, name)}': unknown value {shown} ignored."
            )
        values[name] = good
    for name in ("date_from", "date_to"):
        raw = list(params.get(getattr(PARAM, name), []))
        if not raw or raw[-1] == "":
            continue
        try:
            values[name] = date.fromisoformat(raw[-1])
            if not DATE_MIN <= values[name] <= DATE_MAX:
                raise ValueError(raw[-1])
        except ValueError:
            values.pop(name, None)
            warnings.append(
                f"URL parameter '{getattr(PARAM, name)}': {raw[-1][:40]!r} is not a date "
                "(YYYY-MM-DD); ignored."
            )
    start, end = values.get("date_from"), values.get("date_to")
    if start and end and start > end:  # type: ignore[operator]
        warnings.append("URL parameters 'from' and 'to': 'from' is after 'to'; dates ignored.")
        values.pop("date_from")
        values.pop("date_to")
    text = list(params.get(PARAM.text, []))
    if text:
        if len(text[-1]) > MAX_TEXT:
            warnings.append(f"URL parameter 'q': longer than {MAX_TEXT} characters; cut.")
        values["text"] = text[-1][:MAX_TEXT]
    return Filters(**values), warnings  # type: ignore[arg-type]


def _url_params() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params.keys()}


def _seed_widgets_from_url(options: FilterOptions) -> None:
    """On a session's first run, the URL decides what the widgets start with."""
    f, warnings = parse_query_params(_url_params(), options)
    for fld in fields(Filters):
        value = getattr(f, fld.name)
        widget_value = list(value) if isinstance(value, tuple) else value
        st.session_state[getattr(KEY, fld.name)] = widget_value
    st.session_state[_WARNINGS] = warnings
    st.session_state[_BOUND] = True


def _drop_stale(key: str, allowed: Mapping[str, str] | Sequence[str]) -> None:
    # After a rebuild a chosen value may be gone; a multiselect must not hold it.
    if key in st.session_state:
        st.session_state[key] = [v for v in st.session_state[key] if v in allowed]


def _clear() -> None:
    for fld in fields(Filters):
        st.session_state[getattr(KEY, fld.name)] = (
            [] if fld.type.startswith("tuple") else (None if "date" in fld.name else "")
        )


def sidebar(options: FilterOptions) -> Filters:
    """Draw the filter widgets, keep the URL in step, and return the Filters."""
    if not st.session_state.get(_BOUND):
        _seed_widgets_from_url(options)
    for msg in st.session_state.pop(_WARNINGS, []):  # said once, on the run that read the URL
        st.warning(md_escape(msg), icon="⚠️")
    for name in ("actors", "topics", "countries", "types"):
        _drop_stale(getattr(KEY, name), getattr(options, name))
    sb = st.sidebar
    sb.header("Filters")
    actors = sb.multiselect(
        "Actor", list(options.actors), key=KEY.actors, format_func=options.actors.get,
        placeholder="Type a name…", help="Events where the entity is actor or target.",
    )
    types = sb.multiselect("Event type", options.types, key=KEY.types)
    countries = sb.multiselect(
        "Country", options.countries, key=KEY.countries,
        help="Events whose actor's or target's country, or location, is one of these.",
    )
    topics = sb.multiselect("Topic", options.topics, key=KEY.topics)
    c1, c2 = sb.columns(2)
    # Fixed bounds: a URL date outside the data's span must not break the widget.
    date_from = c1.date_input(
        "From", key=KEY.date_from, min_value=DATE_MIN, max_value=DATE_MAX, format="YYYY-MM-DD"
    )
    date_to = c2.date_input(
        "To", key=KEY.date_to, min_value=DATE_MIN, max_value=DATE_MAX, format="YYYY-MM-DD"
    )
    text = sb.text_input("Text in evidence", key=KEY.text, max_chars=MAX_TEXT)
    sb.button("Clear filters", key=KEY.clear, on_click=_clear)
    if date_from and date_to and date_from > date_to:
        sb.warning("'From' is after 'To': the date range is ignored.")
        date_from = date_to = None
    f = Filters(
        actors=tuple(actors), topics=tuple(topics), countries=tuple(countries),
        types=tuple(types), date_from=date_from or None, date_to=date_to or None,
        text=(text or "").strip(),
    )
    wanted = {k: v if isinstance(v, list) else [v] for k, v in to_query_params(f).items()}
    # Streamlit's own embedding parameters stay; ours follow the widgets.
    wanted.update({k: st.query_params.get_all(k) for k in KEEP_PARAMS if k in st.query_params})
    if wanted != _url_params():
        st.query_params.from_dict(wanted)
    return f
