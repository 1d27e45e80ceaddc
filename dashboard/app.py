"""Dyad dashboard: `streamlit run dashboard/app.py -- --data STORE_DIR`.

The entry point only wires things: it finds the store, draws the sidebar filters
(bound to the URL), filters once, and runs the page the analyst chose.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # streamlit puts dashboard/ on the path, not the project
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import auth, data, filters  # noqa: E402

# Not "pages/": Streamlit would treat that folder as a v1 multipage app and run a page
# without this entry point when a deep link (/map?country=IRN) opens a new session.
PAGES = Path(__file__).resolve().parent / "views"
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.png"
PAGE_SPECS = [  # (file, title, icon)
    ("overview.py", "Overview", ":material/dashboard:"),
    ("events.py", "Events", ":material/table_rows:"),
    ("entities.py", "Entities", ":material/group:"),
    ("map.py", "Map", ":material/public:"),
    ("timeline.py", "Timeline", ":material/timeline:"),
    ("network.py", "Network", ":material/hub:"),
    ("sources.py", "Sources", ":material/description:"),
]


def main() -> None:
    # A local icon file: a material-icon favicon would be fetched from fonts.gstatic.com.
    st.set_page_config(page_title="Dyad", page_icon=str(FAVICON), layout="wide")
    signed_in = auth.current_role() is not None
    page = st.navigation(
        [
            st.Page(PAGES / file, title=title, icon=icon, default=i == 0)
            for i, (file, title, icon) in enumerate(PAGE_SPECS)
        ],
        position="sidebar" if signed_in else "hidden",
    )
    auth.require_login()  # draws the sign-in form and stops until someone is signed in
    store, is_default = data.store_from_args(sys.argv[1:], dict(os.environ))
    data.ensure_store(store, is_default)
    prep = data.load(store)
    chosen = filters.sidebar(prep.options)
    data.set_current(data.Current(store, prep, chosen, data.filtered(store, prep, chosen)))
    page.run()


main()
