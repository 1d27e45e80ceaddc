"""DuckDB queries over a store's Parquet files, for stores too large to hold in pandas.

The dashboard's filters (actor, type, topic, country, date range, evidence text)
become one WHERE clause over the events files; DuckDB reads only the month
partitions and columns a query needs and returns the small frames a page draws
(counts, top actors, a page of the table, network edges). The semantics are those
of ``dashboard.filters.apply``: an event matches an actor as actor or target, a
country as location or as its actor's or target's country, a topic when its list
holds one of them, a text when its evidence holds it (case-insensitive).

Every value from a user is a bound parameter; only column names, which are
constants from core.schemas, are written into the SQL text.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd

from core import store as st
from core.errors import StoreError
from core.schemas import DOC, EDGE, ENT, EV, MEN

MEMORY_LIMIT = "1GB"  # DuckDB spills to disk past this instead of growing the process
MATERIALISED = 4  # filtered event sets kept as tables (the most recent filters)
TRUNC = {"day": "day", "week": "week", "month": "month"}  # DuckDB weeks start on Monday
_LIKE_ESCAPE = "\\"


class FilterSpec(Protocol):
    """What a filter names (dashboard.filters.Filters has these fields)."""

    actors: tuple[str, ...]
    topics: tuple[str, ...]
    countries: tuple[str, ...]
    types: tuple[str, ...]
    date_from: date | None
    date_to: date | None
    text: str


@dataclass(frozen=True)
class WithEntity:
    """Filters narrowed to the events one entity takes part in (an entity's profile)."""

    base: FilterSpec
    entity: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)


def _is_empty(f: FilterSpec) -> bool:
    if isinstance(f, WithEntity):
        return False
    return not (f.actors or f.topics or f.countries or f.types or f.date_from or f.date_to
                or f.text)


def like_pattern(text: str) -> str:
    """An ILIKE pattern matching ``text`` anywhere, its own % _ and \\ taken literally."""
    for ch in (_LIKE_ESCAPE, "%", "_"):
        text = text.replace(ch, _LIKE_ESCAPE + ch)
    return f"%{text}%"


def _sql_path(path: Path) -> str:
    # Paths come from the server's store location, never from a user; quoted all the same.
    return "'" + str(path).replace("'", "''") + "'"


class StoreQuery:
    """Read-only DuckDB views over one version of a store (``events``, ``entities`` ...)."""

    def __init__(self, store_dir: str | Path) -> None:
        self.store = Path(store_dir)
        folder = st.current(self.store).resolve()  # pinned: a rebuild meanwhile is harmless
        self.folder = folder
        self.partitioned = st.frame_path(folder, "events").is_dir()
        self._lock = threading.Lock()
        self._tables: OrderedDict[str, str] = OrderedDict()  # filter repr -> table name
        self._con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT})
        try:
            for name in ("documents", "mentions", "entities", "events", "edges"):
                path = st.frame_path(folder, name)
                if not path.exists():
                    raise StoreError(f"{name}.parquet is missing", self.store)
                if path.is_dir():
                    source = (f"read_parquet({_sql_path(path / '*' / '*.parquet')}, "
                              "hive_partitioning = true)")
                else:
                    source = f"read_parquet({_sql_path(path)})"
                self._con.execute(f"CREATE VIEW {name} AS SELECT * FROM {source}")
        except duckdb.Error as exc:
            raise StoreError(f"the store cannot be queried: {exc}", self.store) from exc

    def close(self) -> None:
        self._con.close()

    def sql(self, query: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run a query on a cursor of its own (the connection is shared between sessions)."""
        with self._lock:
            cur = self._con.cursor()
        try:
            return cur.execute(query, params or {}).df()
        except duckdb.Error as exc:
            raise StoreError(f"query failed: {exc}", self.store) from exc
        finally:
            cur.close()

    # --- the WHERE clause -------------------------------------------------------------------

    def where(self, f: FilterSpec) -> tuple[str, dict[str, Any]]:
        """(SQL condition over ``events e``, its parameters) for the filters."""
        conds: list[str] = []
        params: list[tuple[str, Any]] = []
        if f.actors:
            conds.append(f"(list_contains($actors, e.{EV.actor_id}) "
                         f"OR list_contains($actors, e.{EV.target_id}))")
            params.append(("actors", list(f.actors)))
        if isinstance(f, WithEntity):
            conds.append(f"(e.{EV.actor_id} = $entity OR e.{EV.target_id} = $entity)")
            params.append(("entity", f.entity))
        if f.types:
            conds.append(f"list_contains($types, e.{EV.type})")
            params.append(("types", list(f.types)))
        if f.countries:
            in_country = (f"(SELECT {ENT.entity_id} FROM entities "
                          f"WHERE list_contains($countries, {ENT.country}))")
            conds.append(f"(list_contains($countries, e.{EV.location}) "
                         f"OR e.{EV.actor_id} IN {in_country} "
                         f"OR e.{EV.target_id} IN {in_country})")
            params.append(("countries", list(f.countries)))
        if f.topics:
            conds.append(f"list_has_any(e.{EV.topics}, $topics)")
            params.append(("topics", list(f.topics)))
        if f.date_from is not None:
            conds.append(f"e.{EV.date} >= $date_from")
            params.append(("date_from", pd.Timestamp(f.date_from).to_pydatetime()))
        if f.date_to is not None:
            conds.append(f"e.{EV.date} < $date_to")
            params.append(("date_to", pd.Timestamp(f.date_to + timedelta(days=1))
                           .to_pydatetime()))
        if self.partitioned and (f.date_from is not None or f.date_to is not None):
            # Partition pruning: whole months outside the range are never opened.
            conds.append(f"e.{st.PARTITION_KEY} <> '{st.UNKNOWN_MONTH}'")
            if f.date_from is not None:
                conds.append(f"e.{st.PARTITION_KEY} >= $month_from")
                params.append(("month_from", f.date_from.strftime("%Y-%m")))
            if f.date_to is not None:
                conds.append(f"e.{st.PARTITION_KEY} <= $month_to")
                params.append(("month_to", f.date_to.strftime("%Y-%m")))
        if f.text:
            conds.append(f"e.{EV.evidence} ILIKE $text ESCAPE '{_LIKE_ESCAPE}'")
            params.append(("text", like_pattern(f.text)))
        return (" AND ".join(conds) or "TRUE"), dict(params)

    def _materialise(self, f: FilterSpec) -> str:
        """A table of the matching events' key columns, made once per filter.

        A page asks several questions of one filtered set; scanning the Parquet files
        (and matching evidence text) once, then aggregating a small table, keeps a
        filter change to one scan.
        """
        key = repr(f)
        with self._lock:
            if key in self._tables:
                self._tables.move_to_end(key)
                return self._tables[key]
            name = "fe_" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
            cond, params = self.where(f)
            cols = ", ".join(f"e.{c}" for c in SLIM_COLUMNS)
            try:
                self._con.execute(f"CREATE OR REPLACE TABLE {name} AS "
                                  f"SELECT {cols} FROM events e WHERE {cond}", params)
            except duckdb.Error as exc:
                raise StoreError(f"query failed: {exc}", self.store) from exc
            self._tables[key] = name
            while len(self._tables) > MATERIALISED:
                _, old = self._tables.popitem(last=False)
                self._con.execute(f"DROP TABLE IF EXISTS {old}")
            return name

    def forget(self) -> None:
        """Drop the materialised filtered sets (benchmarks measure a first filter change)."""
        with self._lock:
            for name in self._tables.values():
                self._con.execute(f"DROP TABLE IF EXISTS {name}")
            self._tables.clear()

    def _run(self, f: FilterSpec, query: str, extra: dict[str, Any] | None = None,
             full: bool = False) -> pd.DataFrame:
        """``query`` with ``{fe}`` replaced by the filtered events (a subquery).

        ``full``: every event column is needed (a download); otherwise the filtered
        SLIM_COLUMNS are materialised once per filter and reused by every page.
        """
        params: dict[str, Any] = {}
        if _is_empty(f):
            fe = "(SELECT * FROM events)"
        elif full:
            cond, params = self.where(f)
            fe = f"(SELECT * FROM events e WHERE {cond})"
        else:
            fe = f"(SELECT * FROM {self._materialise(f)})"
        named = {**params, **(extra or {})}
        with self._lock:
            cur = self._con.cursor()
        try:
            return cur.execute(query.format(fe=fe), named).df()
        except duckdb.Error as exc:
            raise StoreError(f"query failed: {exc}", self.store) from exc
        finally:
            cur.close()

    # --- what the pages show ------------------------------------------------------------------

    def count(self, f: FilterSpec) -> int:
        return int(self._run(f, "SELECT count(*) AS n FROM {fe}")["n"].iloc[0])

    def summary(self, f: FilterSpec) -> dict[str, Any]:
        """Events, documents, entities, countries, first/last date and undated events."""
        ev = self._run(f, f"""
            SELECT count(*) AS events, count(DISTINCT {EV.doc_id}) AS documents,
                   min({EV.date}) AS first, max({EV.date}) AS last,
                   count(*) - count({EV.date}) AS undated
            FROM {{fe}}""").iloc[0]
        countries = self._run(f, f"""
            WITH fe AS {{fe}}
            SELECT count(DISTINCT c) AS n FROM (
              SELECT {EV.location} AS c FROM fe
              UNION ALL SELECT en.{ENT.country} FROM fe JOIN entities en
                ON en.{ENT.entity_id} = fe.{EV.actor_id}
              UNION ALL SELECT en.{ENT.country} FROM fe JOIN entities en
                ON en.{ENT.entity_id} = fe.{EV.target_id})""")["n"].iloc[0]
        if _is_empty(f):  # unfiltered: every document and entity, unconnected ones included
            docs = self.sql("SELECT count(*) AS n FROM documents")["n"].iloc[0]
            ents = self.sql("SELECT count(*) AS n FROM entities")["n"].iloc[0]
        else:
            docs = ev["documents"]
            ents = self._run(f, f"""
                WITH fe AS {{fe}}
                SELECT count(DISTINCT x) AS n FROM (
                  SELECT {EV.actor_id} AS x FROM fe UNION ALL SELECT {EV.target_id} FROM fe)
                """)["n"].iloc[0]
        return {
            "events": int(ev["events"]), "documents": int(docs), "entities": int(ents),
            "countries": int(countries), "first": ev["first"], "last": ev["last"],
            "undated": int(ev["undated"]),
        }

    def counts_by_type(self, f: FilterSpec) -> pd.DataFrame:
        """(type, n) busiest first."""
        return self._run(f, f"""SELECT {EV.type} AS type, count(*) AS n FROM {{fe}}
                                GROUP BY 1 ORDER BY n DESC, type""")

    def top_actors(self, f: FilterSpec, n: int = 10) -> pd.DataFrame:
        """(entity_id, n) of the busiest actors (as actor only)."""
        return self._run(f, f"""SELECT {EV.actor_id} AS entity_id, count(*) AS n FROM {{fe}}
                                GROUP BY 1 ORDER BY n DESC, entity_id LIMIT $n""", {"n": n})

    def country_counts(self, f: FilterSpec, by: str) -> pd.DataFrame:
        """(country, n): events per ISO3 by location, actor's or target's country."""
        if by == "location":
            expr, join = f"fe.{EV.location}", ""
        else:
            col = EV.actor_id if by == "actor" else EV.target_id
            expr = f"en.{ENT.country}"
            join = f"JOIN entities en ON en.{ENT.entity_id} = fe.{col}"
        return self._run(f, f"""WITH fe AS {{fe}}
            SELECT {expr} AS country, count(*) AS n FROM fe {join}
            WHERE {expr} IS NOT NULL GROUP BY 1 ORDER BY n DESC, country""")

    def timeline(self, f: FilterSpec, freq: str, split: str, top: int = 8) -> pd.DataFrame:
        """(period, group, n) for dated events; group is the type, or an actor id / NULL."""
        period = f"CAST(date_trunc('{TRUNC[freq]}', {EV.date}) AS TIMESTAMP)"
        if split == "type":
            return self._run(f, f"""SELECT {period} AS period, {EV.type} AS "group",
                count(*) AS n FROM {{fe}} WHERE {EV.date} IS NOT NULL
                GROUP BY ALL ORDER BY period, "group" """)
        return self._run(f, f"""WITH fe AS (SELECT * FROM {{fe}} WHERE {EV.date} IS NOT NULL),
            leaders AS (SELECT {EV.actor_id} AS a FROM fe GROUP BY 1
                        ORDER BY count(*) DESC, a LIMIT $top)
            SELECT {period} AS period,
                   CASE WHEN {EV.actor_id} IN (SELECT a FROM leaders) THEN {EV.actor_id} END
                     AS "group", count(*) AS n
            FROM fe GROUP BY ALL ORDER BY period, "group" NULLS LAST""", {"top": top})

    def events(self, f: FilterSpec, limit: int | None = None, offset: int = 0,
               full: bool = False) -> pd.DataFrame:
        """Matching events, newest first (ties by event_id), with their document's title.

        The columns a table shows (``SLIM_COLUMNS``), or with ``full`` every column.
        """
        cols = ", ".join(f"fe.{c}" for c in (_EVENT_COLUMNS if full else SLIM_COLUMNS))
        page = "LIMIT $limit OFFSET $offset" if limit is not None else ""
        extra = {"limit": limit, "offset": offset} if limit is not None else {}
        return self._run(f, f"""WITH fe AS {{fe}}
            SELECT {cols}, d.{DOC.title} AS doc_title FROM fe
            LEFT JOIN documents d ON d.{DOC.doc_id} = fe.{EV.doc_id}
            ORDER BY fe.{EV.date} DESC NULLS LAST, fe.{EV.event_id} {page}""", extra,
            full=full)

    def event(self, event_id: str) -> pd.Series | None:
        rows = self.sql(f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events "
                        f"WHERE {EV.event_id} = $id", {"id": event_id})
        return None if rows.empty else rows.iloc[0]

    def document(self, doc_id: str) -> pd.Series | None:
        rows = self.sql(f"SELECT * FROM documents WHERE {DOC.doc_id} = $id",
                        {"id": doc_id})
        return None if rows.empty else rows.iloc[0]

    def mentions_in(self, doc_id: str, start: int, end: int) -> pd.DataFrame:
        """Mentions inside [start, end) of one document (the evidence highlighter uses them)."""
        return self.sql(
            f'SELECT * FROM mentions WHERE {MEN.doc_id} = $doc AND "{MEN.start}" >= $s '
            f'AND "{MEN.end}" <= $e' , {"doc": doc_id, "s": start, "e": end},
        )

    def entity_stats(self, f: FilterSpec) -> pd.DataFrame:
        """(entity_id, n_events, n_mentions, n_documents) for the entities the filter shows.

        Unfiltered, every entity (unconnected ones with zeros); filtered, those acting or
        targeted in the matching events, their mentions counted in the matching documents.
        """
        if _is_empty(f):
            ents = f"SELECT {ENT.entity_id} AS entity_id FROM entities"
            docs = f"SELECT {DOC.doc_id} AS doc_id FROM documents"
        else:
            ents = (f"SELECT DISTINCT x AS entity_id FROM (SELECT {EV.actor_id} AS x FROM fe "
                    f"UNION ALL SELECT {EV.target_id} FROM fe) WHERE x IS NOT NULL")
            docs = f"SELECT DISTINCT {EV.doc_id} AS doc_id FROM fe"
        return self._run(f, f"""WITH fe AS {{fe}}, ents AS ({ents}), docs AS ({docs}),
            inv AS (SELECT x AS entity_id, count(*) AS n FROM (
                      SELECT {EV.actor_id} AS x FROM fe UNION ALL SELECT {EV.target_id} FROM fe)
                    WHERE x IS NOT NULL GROUP BY 1),
            men AS (SELECT m.{MEN.entity_id} AS entity_id, count(*) AS n,
                           count(DISTINCT m.{MEN.doc_id}) AS nd
                    FROM mentions m SEMI JOIN docs ON docs.doc_id = m.{MEN.doc_id}
                    WHERE m.{MEN.entity_id} IN (SELECT entity_id FROM ents) GROUP BY 1)
            SELECT ents.entity_id, coalesce(inv.n, 0) AS n_events,
                   coalesce(men.n, 0) AS n_mentions, coalesce(men.nd, 0) AS n_documents
            FROM ents LEFT JOIN inv USING (entity_id) LEFT JOIN men USING (entity_id)
            ORDER BY n_events DESC, n_mentions DESC, entity_id""")

    def documents(self, f: FilterSpec, limit: int | None = None) -> pd.DataFrame:
        """Documents holding matching events (all documents when unfiltered), without text."""
        cols = ", ".join(f"d.{c}" for c in (DOC.doc_id, DOC.source, DOC.title, DOC.published,
                                                 DOC.url, DOC.n_words))
        cond = "" if _is_empty(f) else f"WHERE d.{DOC.doc_id} IN (SELECT {EV.doc_id} FROM fe)"
        page = "LIMIT $limit" if limit is not None else ""
        return self._run(f, f"""WITH fe AS {{fe}} SELECT {cols} FROM documents d {cond}
                                ORDER BY d.{DOC.published} DESC NULLS LAST, d.{DOC.doc_id}
                                {page}""", {"limit": limit} if limit is not None else {})

    def edges_sql(self, f: FilterSpec, co_mentions: bool) -> str:
        """The SQL of edges() over a ``fe`` (filtered events) relation."""
        co = ""
        if co_mentions:
            ends = (f"SELECT x FROM (SELECT {EV.actor_id} AS x FROM fe "
                    f"UNION ALL SELECT {EV.target_id} FROM fe)")
            if _is_empty(f):
                ends = f"SELECT {ENT.entity_id} FROM entities"
            co = f"""UNION ALL SELECT {EDGE.source_id}, {EDGE.target_id}, {EDGE.relation},
                       {EDGE.weight} FROM edges
                     WHERE len({EDGE.event_ids}) = 0
                       AND {EDGE.source_id} IN ({ends}) AND {EDGE.target_id} IN ({ends})"""
        return f"""SELECT {EV.actor_id} AS {EDGE.source_id}, {EV.target_id} AS {EDGE.target_id},
                   {EV.type} AS {EDGE.relation}, count(*) AS {EDGE.weight}
            FROM fe WHERE {EV.target_id} IS NOT NULL AND {EV.target_id} <> {EV.actor_id}
            GROUP BY ALL
            {co}"""

    def edges(self, f: FilterSpec, co_mentions: bool = True) -> pd.DataFrame:
        """(source_id, target_id, relation, weight) among the matching events.

        Event edges are counted from the events themselves (one edge per actor, target
        and type, as core.graph builds them); co-mention edges (no events) are kept when
        both ends are shown.
        """
        return self._run(f, f"WITH fe AS {{fe}} {self.edges_sql(f, co_mentions)}")

    def counterparts(self, f: FilterSpec, entity: str) -> pd.DataFrame:
        """(entity_id, n): who ``entity`` acts on or is acted on by, in the matching events."""
        return self._run(f, f"""WITH fe AS {{fe}}
            SELECT CASE WHEN {EV.actor_id} = $me THEN {EV.target_id} ELSE {EV.actor_id} END
                   AS entity_id, count(*) AS n
            FROM fe WHERE (CASE WHEN {EV.actor_id} = $me THEN {EV.target_id}
                          ELSE {EV.actor_id} END) IS NOT NULL
            GROUP BY 1 ORDER BY n DESC, entity_id""", {"me": entity})

    def network(self, f: FilterSpec, min_weight: int, limit: int, co_mentions: bool
                ) -> tuple[pd.DataFrame, pd.Series, int]:
        """(edges among the ``limit`` busiest linked entities, their event counts, entities
        linked in all) with pairs lighter than ``min_weight`` left out, as the network page
        draws them; the aggregation runs in DuckDB so only drawn edges reach pandas."""
        edges = self.edges_sql(f, co_mentions)
        s, t = EDGE.source_id, EDGE.target_id
        out = self._run(f, f"""WITH fe AS {{fe}}, e AS ({edges}),
            pairs AS (SELECT {s}, {t} FROM e WHERE {s} <> {t} GROUP BY ALL
                      HAVING sum({EDGE.weight}) >= $minw),
            nodes AS (SELECT DISTINCT x FROM (SELECT {s} AS x FROM pairs
                                             UNION ALL SELECT {t} FROM pairs)),
            inv AS (SELECT x, count(*) AS n FROM (SELECT {EV.actor_id} AS x FROM fe
                    UNION ALL SELECT {EV.target_id} FROM fe) GROUP BY 1),
            ranked AS (SELECT nodes.x, coalesce(inv.n, 0) AS n FROM nodes
                       LEFT JOIN inv USING (x) ORDER BY n DESC, nodes.x LIMIT $limit)
            SELECT e.*, (SELECT count(*) FROM nodes) AS n_nodes,
                   rs.n AS n_source, rt.n AS n_target
            FROM e SEMI JOIN pairs USING ({s}, {t})
            JOIN ranked rs ON rs.x = e.{s} JOIN ranked rt ON rt.x = e.{t}""",
            {"minw": min_weight, "limit": limit})
        total = int(out["n_nodes"].iloc[0]) if len(out) else 0
        counts = pd.concat([
            pd.Series(out["n_source"].to_numpy(), index=out[s].to_numpy()),
            pd.Series(out["n_target"].to_numpy(), index=out[t].to_numpy()),
        ])
        counts = counts[~counts.index.duplicated()]
        return out[[s, t, EDGE.relation, EDGE.weight]], counts, total

    def involvement(self, f: FilterSpec, ids: list[str] | None = None) -> pd.Series:
        """Matching events per entity, as actor or target (only ``ids`` if given)."""
        only = "WHERE list_contains($ids, x)" if ids is not None else "WHERE x IS NOT NULL"
        out = self._run(f, f"""WITH fe AS {{fe}} SELECT x AS entity_id, count(*) AS n FROM (
              SELECT {EV.actor_id} AS x FROM fe UNION ALL SELECT {EV.target_id} FROM fe)
            {only} GROUP BY 1""", {"ids": ids} if ids is not None else {})
        return out.set_index("entity_id")["n"]


# The columns the pages aggregate or list (the events table included); evidence, offsets
# and the like are fetched for one selected event or for a download.
SLIM_COLUMNS = [EV.event_id, EV.doc_id, EV.date, EV.type, EV.mode, EV.actor_id, EV.target_id,
                 EV.location, EV.topics, EV.confidence]
_EVENT_COLUMNS = [
    EV.event_id, EV.doc_id, EV.sentence_id, EV.date, EV.date_precision, EV.type, EV.mode,
    EV.actor_id, EV.target_id, EV.location, EV.place, EV.topics, EV.evidence,
    EV.evidence_start, EV.evidence_end, EV.trigger, EV.trigger_start, EV.trigger_end,
    EV.confidence, EV.cluster_id,
]
