"""Events: the filtered events; a selected row shows its evidence and document."""

import html

import streamlit as st

from dashboard import data
from dashboard.components import curation, downloads

TABLE = "events_table"
COL = data.COL

cur = data.current()
st.title("Events")
data.stop_if_no_events(cur)

table = data.events_table_for(cur)
total = data.n_events(cur)
if total > len(table):
    held = "all of them" if total <= data.EXPORT_LIMIT or not cur.large else (
        f"the {data.EXPORT_LIMIT:,} newest")
    st.caption(f"Showing the {len(table):,} newest of {total:,} events; "
               f"the downloads hold {held}.")
picked = st.dataframe(
    table, key=TABLE, on_select="rerun", selection_mode="single-row", hide_index=True,
    column_config={
        COL.event_id: None, COL.confidence: st.column_config.NumberColumn(format="%.2f"),
    },
)
# A selection made before the filters changed may point past the new table.
rows = [r for r in (picked.selection.rows if picked else []) if r < len(table)]
if not rows:
    st.caption("Select a row to read its evidence and document.")
else:
    event = data.event_by_id_for(cur, table.iloc[rows[0]][COL.event_id])
    if event is not None:
        st.subheader("Evidence")
        # st.html, not st.markdown: no Markdown or LaTeX ($120K...) is read into article text.
        st.html(data.evidence_html(cur.prep, event))
        st.caption("Highlighted: actor (blue), target (orange), trigger (green).")
        curation.event_editor(event)
        doc = data.document(cur.prep, event["doc_id"])
        if doc is not None:
            with st.expander(f"Document: {data.md_escape(doc['title'])}", expanded=False):
                st.caption(data.document_caption(doc))
                st.html(f'<div style="white-space:pre-wrap">{html.escape(doc["text"])}</div>')

st.divider()
if cur.large:  # a large store's rows are fetched only when a download is clicked
    c1, c2 = st.columns(2)
    c1.download_button("Events (CSV)", lambda: data.csv_bytes(data.events_export_for(cur)),
                       file_name="dyad-events.csv", mime="text/csv", key="dl_dyad-events_csv",
                       on_click="ignore", icon=":material/download:")
    c2.download_button("Events (JSON)", lambda: data.json_bytes(data.events_export_for(cur)),
                       file_name="dyad-events.json", mime="application/json",
                       key="dl_dyad-events_json", on_click="ignore",
                       icon=":material/download:")
else:
    downloads.frame_buttons(data.events_export_for(cur), "dyad-events", "Events")
