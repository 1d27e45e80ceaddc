"""Correction forms for editors: each form appends one entry to the store's log.

The log (core.curation) is an overlay replayed on every load, so a correction shows
on every page at once (the data cache is keyed by the log's version) and survives
rebuilds. Names shown here come from articles: every label is escaped.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.curation import CorrectionLog, CurationError
from core.extract_events import PLOVER_TYPES
from core.model import ENTITY_TYPES
from core.schemas import ENT, EV
from dashboard import auth, data

DONE = "_curation_done"


def _may_correct() -> bool:
    # A large store is served by DuckDB without the overlay: a correction would not show.
    return auth.can_edit() and not data.current().large


def _log() -> CorrectionLog:
    return CorrectionLog(data.current().store)


def _do(action: Callable[[], object], message: str) -> None:
    """Run one correction; on success rerun so every page shows it, else say why."""
    try:
        action()
    except CurationError as exc:
        st.error(data.md_escape(exc.reason))
        return
    st.session_state[DONE] = message
    st.rerun()


def flash() -> None:
    """The confirmation of the last correction, once."""
    if st.session_state.get(DONE):
        st.success(data.md_escape(st.session_state.pop(DONE)))


def entity_editor(entity_id: str) -> None:
    """Merge, rename, aliases, split, type, country, not-an-entity for one entity."""
    if not _may_correct():
        return
    cur = data.current()
    ds, log, me = cur.prep.ds, _log(), auth.who()
    row = ds.entities[ds.entities[ENT.entity_id] == entity_id]
    if row.empty:
        return
    ent = row.iloc[0]
    name, aliases = str(ent[ENT.name]), list(ent[ENT.aliases])
    with st.expander("Correct this entity"):
        flash()
        with st.form("cur_rename", clear_on_submit=True):
            new = st.text_input("Rename to", key="cur_rename_name")
            if st.form_submit_button("Rename") and new.strip():
                _do(lambda: log.rename(ds, entity_id, new, me), f"Renamed to {new.strip()}.")
        with st.form("cur_merge"):
            others = st.multiselect(
                "Merge with", [e for e in cur.prep.names.index if e != entity_id],
                format_func=lambda e: str(cur.prep.names.get(e, e)), key="cur_merge_ids",
            )
            keep = st.text_input("Name of the merged entity", value=name, key="cur_merge_name")
            if st.form_submit_button("Merge") and others:
                _do(lambda: log.merge(ds, [entity_id, *others], keep, me),
                    f"Merged {len(others) + 1} entities into {keep}.")
        with st.form("cur_alias", clear_on_submit=True):
            alias = st.text_input("Add an alias", key="cur_alias_add")
            if st.form_submit_button("Add alias") and alias.strip():
                _do(lambda: log.add_alias(ds, entity_id, alias, me), f"Added alias {alias}.")
        if aliases:
            with st.form("cur_alias_rm"):
                pick = st.selectbox("Alias", aliases, key="cur_alias_pick")
                remove = st.form_submit_button("Remove alias")
                split = st.form_submit_button("Split off as its own entity")
                if remove:
                    _do(lambda: log.remove_alias(ds, entity_id, pick, me),
                        f"Removed alias {pick}.")
                if split:
                    _do(lambda: log.split_alias(ds, entity_id, pick, author=me),
                        f"Split {pick} off into its own entity.")
        with st.form("cur_kind"):
            c1, c2 = st.columns(2)
            etype = c1.selectbox("Type", ENTITY_TYPES, index=ENTITY_TYPES.index(ent[ENT.type]),
                                 key="cur_type")
            country = c2.text_input("Country (ISO3, empty for none)",
                                    value=ent[ENT.country] if isinstance(ent[ENT.country], str)
                                    else "", key="cur_country", max_chars=3)
            if st.form_submit_button("Save type and country"):
                def both() -> None:
                    if etype != ent[ENT.type]:
                        log.set_type(ds, entity_id, etype, me)
                    now = ent[ENT.country] if isinstance(ent[ENT.country], str) else ""
                    if country.strip().upper() != now:
                        log.set_country(ds, entity_id, country.strip().upper() or None, me)
                _do(both, "Saved type and country.")
        if st.button("Not an entity", key="cur_not_entity",
                     help="Drops its mentions, the events it acts in, and its links."):
            _do(lambda: log.not_entity(ds, entity_id, me), f"{name} is no longer an entity.")


def event_editor(event: pd.Series) -> None:
    """Change type or mode, reject, or swap actor and target of one event."""
    if not _may_correct():
        return
    log, me, event_id = _log(), auth.who(), str(event[EV.event_id])
    with st.expander("Correct this event"):
        flash()
        with st.form("cur_event_type"):
            c1, c2 = st.columns(2)
            etype = c1.selectbox("Type", PLOVER_TYPES, index=PLOVER_TYPES.index(event[EV.type]),
                                 key="cur_ev_type")
            mode = c2.text_input("Mode (empty for none)", value=event[EV.mode]
                                 if isinstance(event[EV.mode], str) else "", key="cur_ev_mode")
            if st.form_submit_button("Save type and mode"):
                def both() -> None:
                    if etype != event[EV.type]:
                        log.set_event_type(event_id, etype, me)
                    old = event[EV.mode] if isinstance(event[EV.mode], str) else ""
                    if mode.strip() != old:
                        log.set_event_mode(event_id, mode.strip() or None, me)
                _do(both, "Saved the event's type and mode.")
        c1, c2 = st.columns(2)
        if c1.button("Swap actor and target", key="cur_ev_swap"):
            _do(lambda: log.swap_actor_target(event_id, me), "Swapped actor and target.")
        if c2.button("Reject this event", key="cur_ev_reject"):
            _do(lambda: log.reject_event(event_id, me), "Rejected the event.")


def history() -> None:
    """The log with undo/redo, and its export and import to share corrections."""
    log = _log()
    entries, problems = log.entries()
    st.subheader("Corrections")
    if problems:
        st.warning(data.md_escape(
            f"{len(problems)} line(s) of the corrections log could not be read and were "
            f"skipped: {'; '.join(str(p) for p in problems[:3])}"))
    if not entries:
        st.caption("No corrections yet.")
    else:
        st.dataframe(log.table(), hide_index=True, key="cur_history")
    if not _may_correct():
        return
    flash()
    c1, c2, c3 = st.columns(3)
    if c1.button("Undo", key="cur_undo", disabled=not entries):
        _do(lambda: log.undo(auth.who()) or _nothing("undo"), "Undid the last correction.")
    if c2.button("Redo", key="cur_redo", disabled=not entries):
        _do(lambda: log.redo(auth.who()) or _nothing("redo"), "Redid the last undone correction.")
    c3.download_button("Export corrections", log.export(), "dyad-corrections.jsonl",
                       mime="application/jsonl", key="cur_export", disabled=not entries)
    with st.form("cur_import", clear_on_submit=True):
        upload = st.file_uploader("Import corrections (.jsonl)", type=["jsonl"],
                                  key="cur_import_file")
        if st.form_submit_button("Import") and upload is not None:
            _do(lambda: log.import_(upload.getvalue()), "Imported the corrections.")


def _nothing(what: str) -> None:
    raise CurationError(f"nothing to {what}")
