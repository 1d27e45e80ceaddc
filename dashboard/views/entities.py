"""Entities: who appears in the filtered events, and the profile of one of them."""

from functools import partial

import streamlit as st

from dashboard import data
from dashboard.components import charts, curation, downloads

TABLE = "entities_table"
PROFILE = "entities_profile"
COL = data.COL


def _follow_table(ids: list[str]) -> None:
    # Selecting a row opens that entity's profile.
    rows = st.session_state[TABLE].selection.rows
    if rows and rows[0] < len(ids):
        st.session_state[PROFILE] = ids[rows[0]]


cur = data.current()
st.title("Entities")
data.stop_if_no_events(cur)

table = data.entities_table_for(cur).head(data.TABLE_LIMIT)
ids = table[COL.entity_id].tolist()
st.dataframe(
    table, key=TABLE, on_select=partial(_follow_table, ids), selection_mode="single-row",
    hide_index=True, column_config={COL.entity_id: None},
)
if st.session_state.get(PROFILE) not in ids:
    st.session_state.pop(PROFILE, None)
entity_id = st.selectbox(
    "Profile of", ids, key=PROFILE, format_func=lambda e: cur.prep.names.get(e, e),
)
if entity_id:
    prof = data.entity_profile_for(cur, entity_id)
    ent = prof.entity
    st.subheader(data.md_escape(ent["name"]), anchor=False)
    st.caption(data.entity_caption(ent))
    curation.entity_editor(entity_id)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Counterparts**")
        st.dataframe(prof.counterparts, hide_index=True, key="entities_counterparts")
    with c2:
        st.markdown("**Documents**")
        st.dataframe(prof.documents, hide_index=True, key="entities_documents",
                     column_config={COL.doc_id: None})
    st.markdown("**Events**")
    st.dataframe(prof.events, hide_index=True, key="entities_events",
                 column_config={COL.event_id: None})
    if prof.timeline.empty:
        st.caption("None of these events has a date.")
    else:
        st.plotly_chart(
            charts.timeline(prof.timeline, COL.period, COL.events, COL.group, "Events per month"),
            config=charts.PLOTLY_CONFIG, key="entities_timeline",
        )

st.divider()
downloads.frame_buttons(data.entities_export_for(cur), "dyad-entities", "Entities")
if cur.large:
    st.caption("Mentions are not offered as a download for a store this large.")
else:
    downloads.frame_buttons(cur.view.mentions, "dyad-mentions", "Mentions")
