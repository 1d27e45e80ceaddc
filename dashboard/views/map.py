"""Map: events per country; selecting countries on the map filters to them."""

import streamlit as st

from dashboard import data
from dashboard.components import charts
from dashboard.components import map as world
from dashboard.filters import KEY

MODE = "map_mode"
CHART = "map_chart"
COL = data.COL


def _filter_to_selection() -> None:
    # Runs before the next rerun, so the sidebar's country widget may still be set.
    chosen = world.selected_countries(st.session_state.get(CHART))
    if chosen:
        st.session_state[KEY.countries] = chosen


cur = data.current()
st.title("Map")
data.stop_if_no_events(cur)

by = st.radio("Count events by", list(data.MAP_MODES), key=MODE, horizontal=True,
              format_func=data.MAP_MODES.get)
counts = data.country_counts_for(cur, by)
if counts.empty:
    st.info("None of the matching events names a country for this count.")
else:
    title = f"Events by {data.MAP_MODES[by].lower()}"
    st.plotly_chart(
        world.choropleth(counts, COL.country, COL.events, title),
        config=charts.PLOTLY_CONFIG, key=CHART, on_select=_filter_to_selection,
        selection_mode=("points", "box", "lasso"), theme=None,
    )
    st.caption("Click a country (shift-click for more, or lasso) to filter every page to it.")
    st.dataframe(counts, hide_index=True, key="map_counts")
