"""Plotly figures of the pages, and the one plotly config they share.

The config keeps the modebar (its camera button is the PNG export) and points
plotly's topojson fetch at the copy Streamlit serves from dashboard/static, so
the world map works offline.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

# Streamlit serves dashboard/static/ at app/static/; plotly appends "world_110m.json".
TOPOJSON_URL = "app/static/topojson/"
PLOTLY_CONFIG = {
    "displaylogo": False,
    "displayModeBar": True,
    "toImageButtonOptions": {"format": "png", "filename": "dyad-chart", "scale": 2},
    "topojsonURL": TOPOJSON_URL,
}


def bar(df: pd.DataFrame, x: str, y: str, title: str, horizontal: bool = False) -> go.Figure:
    if horizontal:
        fig = px.bar(df, x=y, y=x, orientation="h", title=title)
        fig.update_yaxes(autorange="reversed", title=None)
    else:
        fig = px.bar(df, x=x, y=y, title=title)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10}, height=360)
    return fig


TICK_FORMATS = {"day": "%d %b %Y", "week": "%d %b %Y", "month": "%b %Y"}


def timeline(df: pd.DataFrame, x: str, y: str, color: str, title: str, freq: str = "month"
             ) -> go.Figure:
    fig = px.bar(df, x=x, y=y, color=color, title=title)
    fig.update_xaxes(tickformat=TICK_FORMATS[freq], type="date")
    fig.update_layout(
        barmode="stack", margin={"l": 10, "r": 10, "t": 40, "b": 10}, height=420,
        legend_title_text=None,
    )
    return fig
