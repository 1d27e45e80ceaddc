"""Sources: the documents, the build's errors, and uploading new articles."""

import streamlit as st

from core import uploads
from core.errors import DyadError
from dashboard import auth, data
from dashboard.components import curation

UPLOAD = "sources_upload"
REBUILD = "sources_rebuild"
DONE = "_sources_upload_done"
REJECTED = "_sources_upload_rejected"  # kept across the rerun that follows a rebuild
COL = data.COL

cur = data.current()
st.title("Sources")
if data.n_events(cur) == 0:
    st.info(data.NO_EVENTS, icon="🔎")

st.subheader("Documents")
st.dataframe(data.documents_for(cur), hide_index=True, key="sources_docs",
             column_config={COL.doc_id: None})

st.subheader("Build errors")
if cur.prep.ds.errors:
    st.dataframe(data.errors_table(cur.prep.ds.errors), hide_index=True, key="sources_errors")
else:
    st.caption("The last build read every file.")
if cur.prep.notes:
    with st.expander(f"Corrections that did not apply ({len(cur.prep.notes)})"):
        st.dataframe({"Note": cur.prep.notes}, hide_index=True, key="sources_notes")
with st.expander("Build manifest"):
    st.code(data.manifest_text(cur.prep.ds.manifest), language="json")

curation.history()

if not auth.can_edit():
    st.caption("Adding articles and rebuilding the store need the editor role.")
    st.stop()

st.subheader("Add articles")
limits = uploads.DEFAULT
with st.form("sources_upload_form", clear_on_submit=True):
    files = st.file_uploader(
        f"Articles ({', '.join(data.upload_types())}): up to {limits.max_files} files and "
        f"{limits.max_total_bytes // 2**20} MB per upload, {limits.max_file_bytes // 2**20} MB "
        "per article",
        type=data.upload_types(), accept_multiple_files=True, key=UPLOAD,
    )
    submitted = st.form_submit_button("Save and rebuild")
if submitted and files:
    try:
        batch = data.receive_uploads(cur.store, [(f.name, f.getvalue()) for f in files])
    except DyadError as exc:
        st.error(data.md_escape(exc))
        st.stop()
    st.session_state[REJECTED] = [data.md_escape(f"{name}: {reason}")
                                  for name, reason in batch.rejected]
    if batch.accepted:
        bar = st.progress(0.0, text="Rebuilding…")
        try:
            data.build_uploads(cur.store, batch, lambda done, total, stage: bar.progress(
                done / max(total, 1), text=f"Rebuilding: {stage} {done}/{total}"))
        except DyadError as exc:
            st.error(data.md_escape(exc))
            st.stop()
        st.session_state[DONE] = f"Added {len(batch.accepted)} file(s) and rebuilt the store."
        st.rerun()
if st.session_state.get(DONE):
    st.success(st.session_state.pop(DONE))
for rejected in st.session_state.pop(REJECTED, []):
    st.warning(rejected)
if st.button("Rebuild from the recorded sources", key=REBUILD,
             help="Re-run the pipeline, e.g. after updating Dyad."):
    try:
        with st.spinner("Rebuilding…"):
            data.rebuild(cur.store)
    except DyadError as exc:
        st.error(data.md_escape(exc))
    else:
        st.rerun()

