"""The data contract: one pandera schema per frame, the single source of column names.

Other modules refer to columns through the constants here (``schemas.EV.actor_id``)
or through ``COLUMNS[frame]``; nothing else spells a column name as a literal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from itertools import chain
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow.types as pa_types
from pyarrow import Table as pa_Table

from core.errors import SchemaError
from core.model import ENTITY_TYPES, PRECISIONS

FRAMES = ("documents", "mentions", "entities", "events", "edges")

# Column name -> (dtype, nullable). Order is the column order of the frame.
_STR = "str"
_INT = "int64"
_FLOAT = "float64"
_DATE = "datetime64[ns]"
_LIST = "object"  # a Python list of strings in every cell

_SPEC: dict[str, dict[str, tuple[str, bool]]] = {
    "documents": {
        "doc_id": (_STR, False),
        "source": (_STR, False),
        "sources": (_LIST, False),
        "title": (_STR, False),
        "published": (_DATE, True),
        "url": (_STR, True),
        "format": (_STR, False),
        "text": (_STR, False),
        "n_words": (_INT, False),
        "topics": (_LIST, False),
    },
    "mentions": {
        "mention_id": (_STR, False),
        "doc_id": (_STR, False),
        "entity_id": (_STR, False),
        "text": (_STR, False),
        "label": (_STR, False),
        "start": (_INT, False),
        "end": (_INT, False),
        "sentence_id": (_INT, False),
        "role": (_STR, True),
    },
    "entities": {
        "entity_id": (_STR, False),
        "name": (_STR, False),
        "type": (_STR, False),
        "country": (_STR, True),
        "aliases": (_LIST, False),
        "roles": (_LIST, False),
        "n_mentions": (_INT, False),
        "n_documents": (_INT, False),
    },
    "events": {
        "event_id": (_STR, False),
        "doc_id": (_STR, False),
        "sentence_id": (_INT, False),
        "date": (_DATE, True),
        "date_precision": (_STR, False),
        "type": (_STR, False),
        "mode": (_STR, True),
        "actor_id": (_STR, False),
        "target_id": (_STR, True),
        "location": (_STR, True),
        "place": (_STR, True),
        "topics": (_LIST, False),
        "evidence": (_STR, False),
        "evidence_start": (_INT, False),
        "evidence_end": (_INT, False),
        "trigger": (_STR, False),
        "trigger_start": (_INT, False),
        "trigger_end": (_INT, False),
        "confidence": (_FLOAT, False),
        "cluster_id": (_STR, False),
    },
    "edges": {
        "source_id": (_STR, False),
        "target_id": (_STR, False),
        "relation": (_STR, False),
        "weight": (_INT, False),
        "event_ids": (_LIST, False),
    },
}

COLUMNS: dict[str, list[str]] = {frame: list(cols) for frame, cols in _SPEC.items()}
LIST_COLUMNS: dict[str, list[str]] = {
    frame: [c for c, (t, _) in cols.items() if t == _LIST] for frame, cols in _SPEC.items()
}
DATE_COLUMNS: dict[str, list[str]] = {
    frame: [c for c, (t, _) in cols.items() if t == _DATE] for frame, cols in _SPEC.items()
}

# Attribute access to column names: DOC.title == "title", EV.actor_id == "actor_id".
DOC, MEN, ENT, EV, EDGE = (
    SimpleNamespace(**{c: c for c in _SPEC[f]}) for f in FRAMES
)

ISO3 = r"^[A-Z]{3}$"


def _all_str_lists(column: pd.Series) -> bool:
    """Every cell is a list and every item of every cell a str (one pass, no per-cell calls)."""
    return all(type(v) is list for v in column) and all(
        type(x) is str for x in chain.from_iterable(column))


def _column(dtype: str, nullable: bool, checks: list[pa.Check] | None = None) -> pa.Column:
    checks = list(checks or [])
    if dtype == _LIST:
        checks.append(pa.Check(_all_str_lists, error="cell is not a list of strings"))
    return pa.Column(dtype, nullable=nullable, checks=checks, coerce=dtype != _LIST)


# Id columns whose values are unique in their frame: a check that spans rows, so
# validate runs it over the whole frame even when some rows are trusted.
_UNIQUE = {"documents": ["doc_id"], "mentions": ["mention_id"], "entities": ["entity_id"],
           "events": ["event_id"]}

_EXTRA_CHECKS: dict[str, dict[str, list[pa.Check]]] = {
    "mentions": {"label": [pa.Check.isin(ENTITY_TYPES)], "start": [pa.Check.ge(0)]},
    "entities": {"type": [pa.Check.isin(ENTITY_TYPES)], "country": [pa.Check.str_matches(ISO3)]},
    "events": {
        "date_precision": [pa.Check.isin(PRECISIONS)],
        "location": [pa.Check.str_matches(ISO3)],
        "confidence": [pa.Check.in_range(0.0, 1.0)],
    },
    "edges": {"weight": [pa.Check.ge(1)]},
}


def _checks(frame: str, col: str) -> list[pa.Check]:
    unique = [pa.Check(lambda s: s.is_unique, error=f"{col} not unique")] \
        if col in _UNIQUE.get(frame, ()) else []
    return [*_EXTRA_CHECKS.get(frame, {}).get(col, []), *unique]


SCHEMAS: dict[str, pa.DataFrameSchema] = {
    frame: pa.DataFrameSchema(
        {
            col: _column(dtype, nullable, _checks(frame, col))
            for col, (dtype, nullable) in cols.items()
        },
        strict=True,
        ordered=True,
        name=frame,
    )
    for frame, cols in _SPEC.items()
}


def map_values(column: pd.Series, mapping: Mapping[Any, Any], default: Any = None,
               dtype: Any = object) -> np.ndarray:
    """``column.map(mapping)`` for long columns of repeated values, as an array.

    Each distinct value is looked up once (pd.factorize works on Arrow strings without
    making a Python object per row); a missing cell or unknown value gives ``default``.
    """
    codes, uniques = pd.factorize(column)
    looked = np.array([*(mapping.get(u, default) for u in uniques), default], dtype=dtype)
    return looked[codes]  # a missing cell has code -1: the trailing default


def rows_where(df: pd.DataFrame, mask: pd.Series, columns: list[str] | None = None
               ) -> pd.DataFrame:
    """``df.loc[mask, columns]``, without copying any row when the mask keeps them all."""
    sub = df if columns is None else df[columns]  # copy-on-write: no copy yet
    return sub if bool(mask.all()) else sub.loc[mask]


def take_rows(df: pd.DataFrame, perm: np.ndarray) -> pd.DataFrame:
    """``df.take(perm)`` with a fresh index; as slices put together when ``perm`` is
    a few runs of consecutive rows (as when a rebuild puts a few new documents' rows
    among many earlier ones): slices of Arrow string columns are not copied, where a
    take copies every string."""
    breaks = np.flatnonzero(np.diff(perm) != 1) + 1
    if not len(perm) or len(breaks) > max(64, len(perm) // 1000):
        return df.take(perm).reset_index(drop=True)
    starts = [0, *breaks.tolist()]
    ends = [*breaks.tolist(), len(perm)]
    return pd.concat([df.iloc[perm[a]:perm[a] + b - a] for a, b in zip(starts, ends, strict=True)],
                     ignore_index=True)


def from_arrow(table: pa_Table) -> pd.DataFrame:
    """table.to_pandas(), with list columns as Python lists (converted by Arrow in one
    go rather than cell by cell from the NumPy arrays to_pandas makes of them)."""
    lists = [f.name for f in table.schema if pa_types.is_list(f.type)]
    df = table.drop_columns(lists).to_pandas()
    for name in lists:
        df[name] = table.column(name).to_pylist()
    return df[table.column_names]


def empty_frame(frame: str) -> pd.DataFrame:
    """A frame with no rows but every column at its contract dtype."""
    return pd.DataFrame(
        {col: pd.Series(dtype=dtype) for col, (dtype, _) in _SPEC[frame].items()}
    )


def _normalise_cell_lists(df: pd.DataFrame, frame: str) -> pd.DataFrame:
    # Parquet gives list cells back as numpy arrays; the contract says lists.
    for col in LIST_COLUMNS[frame]:
        cells = df[col].tolist()
        if not all(type(v) is list for v in cells):
            df[col] = [
                list(v) if isinstance(v, (list, tuple, np.ndarray)) else ([] if v is None else v)
                for v in cells
            ]
    return df


def to_frame(frame: str, records: Iterable[Any]) -> pd.DataFrame:
    """Build a validated frame from dataclass records or dicts (column by column: fast)."""
    rows = list(records)
    if not rows:
        return empty_frame(frame)
    first = rows[0]
    if is_dataclass(first):
        names = {f.name for f in fields(first)}
        get = getattr
    else:
        names = set(first)
        get = dict.get  # type: ignore[assignment]
    missing = [c for c in COLUMNS[frame] if c not in names]
    if missing:
        raise SchemaError(f"{frame}: records lack columns {missing}")
    df = pd.DataFrame({col: [get(r, col) for r in rows] for col in COLUMNS[frame]})
    return validate(frame, df)


def validate(frame: str, df: pd.DataFrame, trusted: np.ndarray | None = None) -> pd.DataFrame:
    """Check a frame against its schema, coercing dtypes; raise SchemaError if it fails.

    ``trusted`` (a boolean per row) marks rows that passed this check in an earlier
    build and were not changed since (a rebuild's reused rows): only the other rows
    are checked cell by cell; what spans rows (unique ids) is checked over them all.
    """
    if trusted is not None and len(df) and trusted.any():
        return _validate_fresh(frame, df, np.asarray(trusted, dtype=bool))
    if len(df) == 0:
        # Keep empty frames at their contract dtypes (object columns stay object).
        if list(df.columns) != COLUMNS[frame]:
            raise SchemaError(f"{frame}: columns {list(df.columns)} != {COLUMNS[frame]}")
        return empty_frame(frame)
    # A shallow copy: with copy-on-write, what is changed below never reaches the caller.
    df = _normalise_cell_lists(df.copy(deep=False), frame)
    for col in DATE_COLUMNS[frame]:
        df[col] = pd.to_datetime(df[col]).astype(_DATE)
    try:
        return SCHEMAS[frame].validate(df, lazy=True)
    except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:
        raise SchemaError(f"{frame} frame breaks the data contract:\n{exc}") from exc


def _validate_fresh(frame: str, df: pd.DataFrame, trusted: np.ndarray) -> pd.DataFrame:
    if list(df.columns) != COLUMNS[frame]:
        raise SchemaError(f"{frame}: columns {list(df.columns)} != {COLUMNS[frame]}")
    fresh = ~trusted
    checked = validate(frame, df.loc[fresh]) if fresh.any() else None
    df = df.copy(deep=False)
    for col, (dtype, _) in _SPEC[frame].items():
        if dtype == _LIST:
            if checked is not None:  # the checked rows' cells, made lists by validate
                cells = df[col].to_numpy(dtype=object, copy=True)
                cells[fresh] = checked[col].to_numpy(dtype=object)
                df[col] = cells
        elif df[col].dtype != (target := checked[col].dtype if checked is not None else dtype):
            df[col] = df[col].astype(target)  # the contract dtype (a no-op when it is)
    for col in _UNIQUE.get(frame, []):
        # The trusted ids were unique when checked: the others must be, and must be new.
        ids = df[col]
        new = ids[fresh]
        if not new.is_unique or int(ids.isin(set(new)).sum()) != len(new):
            raise SchemaError(f"{frame} frame breaks the data contract: {col} not unique")
    return df
