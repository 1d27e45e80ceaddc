"""The entity evaluation: exact span + type scoring on hand-marked texts."""

from __future__ import annotations

import json

import pytest

from core.errors import ConfigError
from core.evaluation.entities import DEVSET, evaluate, load_devset, main
from core.model import ENTITY_TYPES


def write_set(path, items) -> None:
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n",
                    encoding="utf-8")


def span(text: str, part: str, label: str) -> dict:
    start = text.index(part)
    return {"start": start, "end": start + len(part), "label": label}


def test_scores_count_exact_span_and_type(tmp_path) -> None:
    text = "Turkish Foreign Minister Hakan Fidan met officials from Zzyzxville."
    items = [{"id": "a", "text": text, "entities": [
        span(text, "Turkish", "COUNTRY"),
        span(text, "Hakan Fidan", "PERSON"),
        span(text, "Zzyzxville", "LOCATION"),  # not in any gazetteer: a miss
        span(text, "Foreign Minister", "ORGANIZATION"),  # wrong on purpose: never found
    ]}]
    path = tmp_path / "set.jsonl"
    write_set(path, items)
    result = evaluate("rules", path)
    per = result["per_type"]
    assert per["PERSON"]["tp"] == 1 and per["PERSON"]["f1"] == 1.0
    assert per["COUNTRY"]["tp"] == 1
    assert per["LOCATION"]["recall"] == 0.0 and per["LOCATION"]["fn"] == 1
    assert per["ORGANIZATION"]["fn"] == 1
    assert result["overall"]["tp"] == 2 and result["overall"]["fn"] == 2
    assert {e["text"] for e in result["errors"]} == {"Zzyzxville", "Foreign Minister"}


def test_a_span_found_with_another_type_is_both_a_false_positive_and_a_miss(tmp_path) -> None:
    text = "Officials met in Baghdad on Monday."
    path = tmp_path / "set.jsonl"
    write_set(path, [{"id": "b", "text": text,
                      "entities": [span(text, "Baghdad", "ORGANIZATION")]}])
    result = evaluate("rules", path)
    assert result["per_type"]["LOCATION"]["fp"] == 1
    assert result["per_type"]["ORGANIZATION"]["fn"] == 1
    assert result["overall"]["precision"] == 0.0


def test_malformed_devset_is_a_config_error_naming_the_file(tmp_path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x", "text": "abc", "entities": [{"start": 2, "end": 9, '
                    '"label": "PERSON"}]}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        evaluate("rules", path)
    assert "bad.jsonl" in str(info.value)


def test_shipped_devset_is_well_formed_and_covers_every_type() -> None:
    items = load_devset(DEVSET)
    assert len(items) >= 40
    labels = {e["label"] for i in items for e in i["entities"]}
    assert labels == set(ENTITY_TYPES)
    for item in items:
        for e in item["entities"]:
            surface = item["text"][e["start"]:e["end"]]
            assert surface == surface.strip() and surface


def test_main_prints_a_row_per_type(capsys) -> None:
    assert main(["--backend", "rules"]) == 0
    out = capsys.readouterr().out
    for t in ENTITY_TYPES:
        assert t in out
    assert "F1" in out


def test_main_reports_an_unavailable_backend(capsys) -> None:
    assert main(["--backend", "spacy:no_such_pipeline_here"]) != 0
    assert "no_such_pipeline_here" in capsys.readouterr().err


def test_split_scores_only_the_texts_of_that_split(tmp_path) -> None:
    path = tmp_path / "set.jsonl"
    rows = [{"id": "dev001", "text": "Iran and Iraq", "entities": [
                {"start": 0, "end": 4, "label": "COUNTRY"}, {"start": 9, "end": 13,
                                                             "label": "COUNTRY"}]},
            {"id": "dev2-001", "text": "Talks in Egypt", "entities": [
                {"start": 9, "end": 14, "label": "LOCATION"}]}]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    first = evaluate("rules", path, split="dev")
    second = evaluate("rules", path, split="dev2")
    assert first["n_texts"] == 1 and second["n_texts"] == 1
    assert first["overall"]["tp"] == 2 and first["overall"]["fn"] == 0
    # "Egypt" is a COUNTRY, not the LOCATION marked: one miss and one false positive
    assert second["overall"]["fn"] == 1 and second["overall"]["fp"] == 1
