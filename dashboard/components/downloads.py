"""Download buttons for a filtered frame (CSV and JSON, built only when clicked)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data


def frame_buttons(df: pd.DataFrame, stem: str, label: str) -> None:
    """A CSV and a JSON button for ``df``; keys derive from ``stem`` (unique per page)."""
    c1, c2 = st.columns(2)
    c1.download_button(
        f"{label} (CSV)", lambda: data.csv_bytes(df), file_name=f"{stem}.csv",
        mime="text/csv", key=f"dl_{stem}_csv", on_click="ignore", icon=":material/download:",
    )
    c2.download_button(
        f"{label} (JSON)", lambda: data.json_bytes(df), file_name=f"{stem}.json",
        mime="application/json", key=f"dl_{stem}_json", on_click="ignore",
        icon=":material/download:",
    )
