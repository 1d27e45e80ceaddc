"""Overview: key figures, top actors, events by type."""

import streamlit as st

from dashboard import data
from dashboard.components import charts

cur = data.current()
st.title("Overview")
figures = data.key_figures_for(cur)
for col, (label, value) in zip(st.columns(len(figures)), figures.items(), strict=True):
    col.metric(label, value)
st.caption(data.date_caption_for(cur))
data.stop_if_no_events(cur)

left, right = st.columns(2)
with left:
    st.subheader("Top actors")
    st.dataframe(data.top_actors(cur.prep, cur.view), hide_index=True, key="overview_actors")
with right:
    by_type = data.events_by_type(cur.view)
    st.plotly_chart(
        charts.bar(by_type, data.COL.type, data.COL.events, "Events by type", horizontal=True),
        config=charts.PLOTLY_CONFIG, key="overview_types",
    )
