"""The relationship network: a networkx graph of the filtered set, drawn by vis-network.

pyvis assembles nodes, edges and options; the page itself is our own small HTML
around the vis-network script shipped inside pyvis, because pyvis' template pulls
bootstrap and vis from CDNs. Nothing here fetches anything: the script is inlined.
Names from articles are untrusted: tooltips are HTML-escaped before vis turns them
into elements, and all data is JSON-escaped so it cannot close the <script> tag.
"""

from __future__ import annotations

import html
import io
import json
from functools import lru_cache
from pathlib import Path

import networkx as nx
import pandas as pd
import pyvis
from pyvis.network import Network

from core.graph import CO_MENTION
from core.schemas import EDGE, ENT, EV

COLOR_BY = ("type", "country")
PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
    "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c", "#d62728", "#9467bd",
]
TYPE_COLORS = {
    "PERSON": "#4e79a7", "ORGANIZATION": "#f28e2b", "COUNTRY": "#59a14f", "LOCATION": "#b07aa1",
}
OTHER_COLOR = "#bab0ac"
CO_MENTION_COLOR = "#c8c8c8"
EDGE_LABEL_LIMIT = 400  # past this many edges labels are left to tooltips (speed, legibility)
HEIGHT_PX = 640
_VIS_JS = Path(pyvis.__file__).parent / "lib" / "vis-9.1.2" / "vis-network.min.js"


def build_graph(
    entities: pd.DataFrame, edges: pd.DataFrame, events: pd.DataFrame, *, min_weight: int = 1,
    limit: int = 200, color_by: str = "type", co_mentions: bool = True,
) -> tuple[nx.DiGraph, str | None]:
    """Entities joined by their edges (relations of one pair merged, weights summed).

    Only edges of at least ``min_weight`` are kept; past ``limit`` nodes the busiest
    entities (by events) stay and a notice says so. Co-mention edges (same sentence,
    no event) are kept only with ``co_mentions``.
    """
    counts = pd.concat([events[EV.actor_id], events[EV.target_id]]).dropna().value_counts()
    e = edges[edges[EDGE.source_id] != edges[EDGE.target_id]]
    if not co_mentions:
        e = e[e[EDGE.relation] != CO_MENTION]
    pairs = (
        e.groupby([EDGE.source_id, EDGE.target_id, EDGE.relation])[EDGE.weight].sum()
        .reset_index()
    )
    # Event relations before co-mentions, heaviest first: the first one labels the pair.
    pairs = pairs.assign(_co=pairs[EDGE.relation] == CO_MENTION).sort_values(
        ["_co", EDGE.weight], ascending=[True, False]
    )
    totals = pairs.groupby([EDGE.source_id, EDGE.target_id], sort=False).agg(
        weight=(EDGE.weight, "sum"),
        relation=(EDGE.relation, "first"),
        relations=(EDGE.relation, lambda s: list(s)),
        weights=(EDGE.weight, lambda s: list(s)),
    ).reset_index()
    totals = totals[totals["weight"] >= min_weight]
    ids = pd.unique(pd.concat([totals[EDGE.source_id], totals[EDGE.target_id]]))
    notice = None
    if len(ids) > limit:
        ranked = pd.Series(counts.reindex(ids).fillna(0).to_numpy(), index=ids)
        ranked = ranked.sort_values(ascending=False, kind="stable")
        ids = ranked.index[:limit].to_numpy()
        totals = totals[totals[EDGE.source_id].isin(ids) & totals[EDGE.target_id].isin(ids)]
        notice = (
            f"Showing the {limit:,} entities with most events out of {len(ranked):,}; "
            "raise the node limit or the minimum weight to see others."
        )
    ents = entities.set_index(ENT.entity_id)
    colors = _colors(ents.reindex(ids), color_by)
    g = nx.DiGraph()
    for eid in ids:
        row = ents.loc[eid] if eid in ents.index else None
        g.add_node(
            str(eid),
            label=str(row[ENT.name]) if row is not None else str(eid),
            type=str(row[ENT.type]) if row is not None else "",
            country=str(row[ENT.country]) if row is not None and isinstance(
                row[ENT.country], str) else "",
            events=int(counts.get(eid, 0)),
            color=colors.get(eid, OTHER_COLOR),
        )
    for s, t, weight, relation, relations, weights in zip(
        totals[EDGE.source_id], totals[EDGE.target_id], totals["weight"], totals["relation"],
        totals["relations"], totals["weights"], strict=True,
    ):
        summary = ", ".join(f"{r} ×{w}" for r, w in zip(relations, weights, strict=True))
        g.add_edge(str(s), str(t), weight=int(weight), relation=str(relation), relations=summary)
    return g, notice


def _colors(ents: pd.DataFrame, color_by: str) -> dict[str, str]:
    if color_by == "type":
        return {eid: TYPE_COLORS.get(t, OTHER_COLOR) for eid, t in ents[ENT.type].items()}
    countries = ents[ENT.country].dropna().value_counts().index
    palette = {c: PALETTE[i] for i, c in enumerate(countries[: len(PALETTE)])}
    return {eid: palette.get(c, OTHER_COLOR) for eid, c in ents[ENT.country].items()}


def legend_html(g: nx.DiGraph, color_by: str) -> str:
    """Colour keys of the drawn nodes as a line of escaped HTML."""
    key = "type" if color_by == "type" else "country"
    seen: dict[str, str] = {}
    for _, attrs in g.nodes(data=True):
        label = (attrs[key] or "no country").lower() if key == "type" else (
            attrs[key] or "no country")
        if attrs["color"] == OTHER_COLOR and key == "country":
            label = "other"
        seen.setdefault(label, attrs["color"])
    items = [
        f'<span style="white-space:nowrap;margin-right:14px">'
        f'<span style="color:{html.escape(color)}">&#9679;</span> {html.escape(label)}</span>'
        for label, color in sorted(seen.items(), key=lambda kv: (kv[0] == "other", kv[0]))
    ]
    return f'<div style="font-size:0.85rem;line-height:1.8">{"".join(items)}</div>'


def _node_title(attrs: dict) -> str:
    lines = [f"<b>{html.escape(attrs['label'])}</b>", html.escape(attrs["type"].lower())]
    if attrs["country"]:
        lines.append(html.escape(attrs["country"]))
    lines.append(f"{attrs['events']:,} events")
    return "<br>".join(lines)


def _edge_title(g: nx.DiGraph, s: str, t: str, attrs: dict) -> str:
    return (
        f"{html.escape(g.nodes[s]['label'])} → {html.escape(g.nodes[t]['label'])}<br>"
        f"{html.escape(attrs['relations'])}"
    )


def _options(physics: bool, n_nodes: int) -> dict:
    return {
        "physics": {
            "enabled": True,
            "solver": "forceAtlas2Based",
            "forceAtlas2Based": {"gravitationalConstant": -60, "springLength": 90,
                                 "avoidOverlap": 0.2},
            # A bounded stabilisation keeps 1,000 nodes responsive; physics may then stop.
            "stabilization": {"enabled": True, "iterations": 150 if n_nodes > 300 else 300,
                              "updateInterval": 50, "fit": True},
            "minVelocity": 1.0,
        },
        "layout": {"improvedLayout": n_nodes <= 150},
        "interaction": {"hover": True, "tooltipDelay": 150, "hideEdgesOnDrag": n_nodes > 300},
        "nodes": {"shape": "dot", "font": {"size": 13}, "borderWidth": 1},
        "edges": {"smooth": False, "arrows": {"to": {"enabled": True, "scaleFactor": 0.5}},
                  "color": {"inherit": "from", "opacity": 0.55},
                  "font": {"size": 9, "align": "middle"},
                  "scaling": {"min": 1, "max": 8, "label": {"enabled": False}}},
        "dyad": {"keepPhysics": physics},
    }


def to_html(g: nx.DiGraph, physics: bool = False) -> str:
    """A self-contained page drawing the graph (no external request of any kind)."""
    net = Network(height=f"{HEIGHT_PX}px", width="100%", directed=True, cdn_resources="in_line")
    top = max([a["events"] for _, a in g.nodes(data=True)] or [1]) or 1
    for nid, attrs in g.nodes(data=True):
        net.add_node(
            nid, label=attrs["label"], title=_node_title(attrs), color=attrs["color"],
            size=8 + 30 * (attrs["events"] / top) ** 0.5,
        )
    labels = g.number_of_edges() <= EDGE_LABEL_LIMIT
    for s, t, attrs in g.edges(data=True):
        extra: dict = {"label": attrs["relation"]} if labels else {}
        if attrs["relation"] == CO_MENTION:  # named together, nothing done: a quiet line
            extra = {"dashes": True, "arrows": {"to": {"enabled": False}},
                     "color": {"color": CO_MENTION_COLOR, "opacity": 0.5}}
        net.add_edge(s, t, value=attrs["weight"], title=_edge_title(g, s, t, attrs), **extra)
    nodes, edges, *_ = net.get_network_data()
    return _page(nodes, edges, _options(physics, g.number_of_nodes()))


def _script_json(value: object) -> str:
    # Inside <script>, "</script>" or "<!--" in a name would end the script: escape < > &.
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


@lru_cache(maxsize=1)
def _vis_js() -> str:
    return _VIS_JS.read_text(encoding="utf-8")


def _page(nodes: list, edges: list, options: dict) -> str:
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<style>
  html, body {{ margin: 0; padding: 0; font-family: sans-serif; }}
  #graph {{ width: 100%; height: {HEIGHT_PX}px; border: 1px solid #e6e6e6; }}
  div.vis-tooltip {{ position: absolute; visibility: hidden; padding: 5px 8px;
    white-space: nowrap; font-size: 13px; color: #222; background: #fffbe6;
    border: 1px solid #ccc; border-radius: 3px; box-shadow: 2px 2px 6px rgba(0,0,0,.2);
    pointer-events: none; z-index: 5; }}
  #status {{ position: absolute; top: 6px; left: 8px; font-size: 12px; color: #777; }}
</style>
<script>{_vis_js()}</script>
</head><body>
<div id="status">Laying out…</div>
<div id="graph"></div>
<script>
(function () {{
  var nodes = {_script_json(nodes)};
  var edges = {_script_json(edges)};
  var options = {_script_json(options)};
  var keepPhysics = options.dyad.keepPhysics; delete options.dyad;
  // Titles are escaped HTML made by Dyad; as elements they render line breaks and bold.
  function asElement(item) {{
    if (typeof item.title === "string") {{
      var div = document.createElement("div"); div.innerHTML = item.title; item.title = div;
    }}
    return item;
  }}
  var data = {{ nodes: new vis.DataSet(nodes.map(asElement)),
               edges: new vis.DataSet(edges.map(asElement)) }};
  var network = new vis.Network(document.getElementById("graph"), data, options);
  window.dyadNetwork = network;
  function done() {{
    if (!keepPhysics) {{ network.setOptions({{ physics: false }}); }}
    document.getElementById("status").textContent = "";
    document.body.setAttribute("data-stabilized", "1");
  }}
  network.once("stabilizationIterationsDone", done);
  if (nodes.length === 0) {{ done(); }}
}})();
</script>
</body></html>"""


def to_gexf(g: nx.DiGraph) -> bytes:
    buf = io.BytesIO()
    nx.write_gexf(g, buf)
    return buf.getvalue()


def to_graphml(g: nx.DiGraph) -> bytes:
    buf = io.BytesIO()
    nx.write_graphml(g, buf)
    return buf.getvalue()
