"""Timeline: events per day, week or month, split by type or by top actors."""

import streamlit as st

from dashboard import data
from dashboard.components import charts

FREQ = "timeline_freq"
SPLIT = "timeline_split"
COL = data.COL

cur = data.current()
st.title("Timeline")
data.stop_if_no_events(cur)

c1, c2 = st.columns(2)
freq = c1.radio("Events per", list(data.FREQS), index=2, key=FREQ, horizontal=True)
split = c2.radio("Split by", data.SPLITS, key=SPLIT, horizontal=True)
series = data.timeline_for(cur, freq, split)
undated = data.undated_for(cur)
if series.empty:
    st.info("None of the matching events has a date.")
else:
    st.plotly_chart(
        charts.timeline(series, COL.period, COL.events, COL.group, f"Events per {freq}", freq),
        config=charts.PLOTLY_CONFIG, key="timeline_chart",
    )
if undated:
    st.caption(f"{undated:,} matching events have no date and are not on the chart.")
