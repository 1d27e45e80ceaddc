"""The data contract refuses frames an analyst could be misled by."""

import numpy as np
import pandas as pd
import pytest

from core import schemas
from core.errors import SchemaError


def entity_row(**over: object) -> dict:
    row = {
        "entity_id": "e1", "name": "Ibrahim Kalın", "type": "PERSON", "country": "TUR",
        "aliases": ["Kalin"], "roles": ["intelligence chief"], "n_mentions": 3, "n_documents": 2,
    }
    row.update(over)
    return row


def test_a_valid_frame_passes_with_contract_dtypes() -> None:
    df = schemas.to_frame("entities", [entity_row(), entity_row(entity_id="e2", country=None)])
    assert list(df.columns) == schemas.COLUMNS["entities"]
    assert df["n_mentions"].dtype == "int64"
    assert df["aliases"][0] == ["Kalin"]


@pytest.mark.parametrize(
    "bad",
    [
        {"country": "TR"},  # ISO2, not ISO3
        {"type": "PER"},  # not a contract type
        {"aliases": "Kalin"},  # not a list
        {"name": None},  # required
    ],
)
def test_a_frame_breaking_the_contract_is_refused(bad: dict) -> None:
    with pytest.raises(SchemaError, match="entities"):
        schemas.to_frame("entities", [entity_row(**bad)])


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(SchemaError):
        schemas.to_frame("entities", [entity_row(), entity_row()])


def test_extra_or_missing_columns_are_refused() -> None:
    df = schemas.to_frame("entities", [entity_row()])
    with pytest.raises(SchemaError):
        schemas.validate("entities", df.assign(extra=1))
    with pytest.raises(SchemaError):
        schemas.to_frame("entities", [{k: v for k, v in entity_row().items() if k != "type"}])


def test_dates_come_back_as_dates_with_nulls_kept() -> None:
    row = {c: None for c in schemas.COLUMNS["documents"]}
    row.update(doc_id="d1", source="a.txt", sources=["a.txt"], title="t", format="txt",
               text="body", n_words=1, topics=[])
    df = schemas.to_frame("documents", [row, dict(row, doc_id="d2", published="2025-07-09")])
    assert df["published"].dtype == "datetime64[ns]"
    assert pd.isna(df["published"][0])
    assert df["published"][1] == pd.Timestamp("2025-07-09")


@pytest.mark.parametrize("frame", schemas.FRAMES)
def test_empty_frames_keep_columns_and_dtypes(frame: str) -> None:
    empty = schemas.to_frame(frame, [])
    assert list(empty.columns) == schemas.COLUMNS[frame]
    pd.testing.assert_series_equal(empty.dtypes, schemas.validate(frame, empty).dtypes)


def test_rows_of_an_earlier_build_are_trusted_but_new_rows_and_ids_are_checked() -> None:
    import numpy as np

    good = schemas.to_frame("entities", [entity_row(), entity_row(entity_id="e2")])
    trusted = np.array([True, True, False])
    bad_cell = pd.concat([good, pd.DataFrame([entity_row(entity_id="e3", country="TR")])],
                         ignore_index=True)
    with pytest.raises(SchemaError, match="entities"):
        schemas.validate("entities", bad_cell, trusted)
    # A new row repeating a trusted row's id breaks uniqueness across the two.
    repeat = pd.concat([good, pd.DataFrame([entity_row(entity_id="e1")])], ignore_index=True)
    with pytest.raises(SchemaError, match="entity_id not unique"):
        schemas.validate("entities", repeat, trusted)
    fine = pd.concat([good, pd.DataFrame([entity_row(entity_id="e3", aliases=("Kalin",))])],
                     ignore_index=True)
    checked = schemas.validate("entities", fine, trusted)
    assert checked["aliases"].tolist() == [["Kalin"]] * 3  # made a list, as validate does
    pd.testing.assert_series_equal(checked.dtypes, good.dtypes)


@pytest.mark.parametrize("perm", [[], [0, 1, 2, 3, 4], [3, 4, 0, 1, 2], [4, 3, 2, 1, 0], [1, 2]])
def test_take_rows_is_take_whether_it_slices_or_takes(perm: list[int]) -> None:
    # A rebuild reorders rows with it (few runs: slices put together; else a take).
    df = pd.DataFrame({"a": pd.array(list("vwxyz"), dtype="str"), "b": range(5),
                       "c": [[1], [], [2, 3], [4], []]})
    p = np.array(perm, dtype=np.int64)
    pd.testing.assert_frame_equal(schemas.take_rows(df, p), df.take(p).reset_index(drop=True))
