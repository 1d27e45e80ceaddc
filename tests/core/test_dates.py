"""Date expressions resolved against the publication date (core.dates)."""

from __future__ import annotations

from datetime import date

import pytest

from core.dates import find_dates, resolve_date

WED = date(2025, 7, 9)  # Wednesday


@pytest.mark.parametrize(("text", "expected", "precision"), [
    ("on Tuesday", date(2025, 7, 8), "day"),
    ("on Wednesday", date(2025, 7, 9), "day"),
    ("last Wednesday", date(2025, 7, 2), "day"),
    ("on Saturday", date(2025, 7, 5), "day"),
    ("over the weekend", date(2025, 7, 5), "day"),
    ("yesterday", date(2025, 7, 8), "day"),
    ("two days ago", date(2025, 7, 7), "day"),
    ("last month", date(2025, 6, 1), "month"),
    ("last year", date(2024, 1, 1), "year"),
    ("Dec. 8", date(2024, 12, 8), "day"),
    ("July 3", date(2025, 7, 3), "day"),
    ("in December", date(2024, 12, 1), "month"),
    ("in 2023", date(2023, 1, 1), "year"),
])
def test_relative_expressions_resolve_against_published(text: str, expected: date,
                                                         precision: str) -> None:
    (found,) = find_dates(f"The talks took place {text}.", WED)
    assert (found.date, found.precision) == (expected, precision)


@pytest.mark.parametrize(("text", "expected", "precision"), [
    ("July 9, 2025", date(2025, 7, 9), "day"),
    ("9 July 2025", date(2025, 7, 9), "day"),
    ("2025-07-09", date(2025, 7, 9), "day"),
    ("Dec. 8, 2024", date(2024, 12, 8), "day"),
    ("December 2024", date(2024, 12, 1), "month"),
])
def test_absolute_dates_need_no_publication_date(text: str, expected: date,
                                                 precision: str) -> None:
    assert resolve_date(text) == (expected, precision)


@pytest.mark.parametrize("text", ["on Tuesday", "last month", "Dec. 8", "yesterday",
                                  "over the weekend", "last year"])
def test_relative_without_publication_date_is_never_invented(text: str) -> None:
    (found,) = find_dates(f"It happened {text}.", None)
    assert (found.date, found.precision) == (None, "unknown")


def test_day_month_takes_a_year_written_nearby() -> None:
    (d1,) = [d for d in find_dates("Assad fell on Dec. 8 in the 2024 offensive.", WED)
             if d.text == "Dec. 8"]
    assert d1.date == date(2024, 12, 8)
    (d2,) = [d for d in find_dates("On Dec. 8 of 2021 they met.", None) if "Dec" in d.text]
    assert d2.date == date(2021, 12, 8)


def test_that_month_refers_back_to_the_previous_date() -> None:
    found = find_dates("Assad was deposed on Dec. 8, and leaders met in Cairo later that month.",
                       WED)
    assert [(f.date, f.precision) for f in found] == [
        (date(2024, 12, 8), "day"), (date(2024, 12, 1), "month")]


def test_offsets_point_into_the_text() -> None:
    text = "Officials met on Tuesday in Baghdad."
    (found,) = find_dates(text, WED)
    assert text[found.start:found.end] == found.text


def test_modal_may_is_not_a_month() -> None:
    assert find_dates("Iran may respond, officials said.", WED) == []


def test_text_without_dates() -> None:
    assert find_dates("Kalin met with Iraqi officials.", WED) == []
    assert resolve_date("no date here") == (None, "unknown")
