"""Network: entities joined by what they did to each other (vis-network, offline)."""

import streamlit as st

from dashboard import data
from dashboard.components import network

MIN_WEIGHT = "network_min_weight"
LIMIT = "network_limit"
COLOR_BY = "network_color_by"
PHYSICS = "network_physics"
CO_MENTIONS = "network_co_mentions"

cur = data.current()
st.title("Network")
data.stop_if_no_events(cur)

c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
min_weight = c1.number_input("Minimum edge weight", 1, 10_000, 1, key=MIN_WEIGHT)
limit = c2.number_input("Node limit", 10, 3000, 150, step=50, key=LIMIT)
color_by = c3.radio("Colour by", network.COLOR_BY, key=COLOR_BY, horizontal=True)
co_mentions = c4.toggle("Co-mentions", True, key=CO_MENTIONS,
                        help="Also link entities named in the same sentence (dashed).")
physics = c4.toggle("Live physics", False, key=PHYSICS,
                    help="Off: the layout freezes once it has settled.")
graph, notice, page = data.network(cur, int(min_weight), int(limit), color_by, physics,
                                   co_mentions)
if graph.number_of_nodes() == 0:
    st.info(f"No relationships of weight {min_weight} or more among the matching events.")
else:
    if notice:
        st.warning(notice)
    st.caption(f"{graph.number_of_nodes():,} entities, {graph.number_of_edges():,} links. "
               "Node size: events; edge width: weight.")
    st.markdown(network.legend_html(graph, color_by), unsafe_allow_html=True)
    st.iframe(page, height=network.HEIGHT_PX + 12)
    d1, d2 = st.columns(2)
    d1.download_button("Network (GEXF)", lambda: network.to_gexf(graph), "dyad-network.gexf",
                       mime="application/xml", key="dl_network_gexf", on_click="ignore")
    d2.download_button("Network (GraphML)", lambda: network.to_graphml(graph),
                       "dyad-network.graphml", mime="application/xml", key="dl_network_graphml",
                       on_click="ignore")
