"""The world map: a choropleth of events per country (ISO3), drawn from the local topojson."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

# Blues starting well above white, so a country with one event still stands out.
COLORSCALE = [[0.0, "#9ecae1"], [0.5, "#4292c6"], [1.0, "#08306b"]]


def choropleth(counts: pd.DataFrame, country_col: str, value_col: str, title: str
               ) -> go.Figure:
    """Countries shaded by their count; clicking or lasso-selecting one selects it."""
    fig = go.Figure(
        go.Choropleth(
            locations=counts[country_col], z=counts[value_col], locationmode="ISO-3",
            colorscale=COLORSCALE, marker_line_color="#888", marker_line_width=0.5,
            colorbar_title=value_col,
            hovertemplate="%{location}: %{z:,} events<extra></extra>",
        )
    )
    fig.update_geos(
        projection_type="natural earth", showframe=False, showcoastlines=True,
        coastlinecolor="#999", showcountries=True, countrycolor="#ccc",
        showland=True, landcolor="#f4f4f4", resolution=110,
        projection_rotation_lon=0, center_lon=0, lonaxis_range=[-180, 180],
    )
    fig.update_layout(title=title, margin={"l": 0, "r": 0, "t": 40, "b": 0}, height=520,
                      clickmode="event+select")
    return fig


def selected_countries(selection: Mapping[str, Any] | None) -> list[str]:
    """ISO3 codes of the countries in a plotly selection event (st.plotly_chart on_select)."""
    if not selection:
        return []
    points = selection.get("selection", {}).get("points", [])
    return sorted({p["location"] for p in points if isinstance(p.get("location"), str)})
