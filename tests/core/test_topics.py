"""Topic taxonomy tagging (core.topics)."""

from __future__ import annotations

from core.topics import document_topics, topic_labels, topics_for


def test_taxonomy_holds_the_analyst_topics() -> None:
    labels = topic_labels()
    for tid in ("terrorism", "border_security", "nuclear", "ceasefire_peace", "elections",
                "sanctions_trade", "humanitarian", "energy", "bilateral_relations",
                "intelligence", "military", "diplomacy"):
        assert tid in labels and labels[tid]


def test_sentence_topics() -> None:
    got = topics_for("Kalin held talks in Baghdad to strengthen border security and enhance "
                     "joint counter-terrorism initiatives.")
    assert {"border_security", "terrorism", "diplomacy"} <= set(got)
    assert got == sorted(got)


def test_word_forms_and_phrases() -> None:
    assert "sanctions_trade" in topics_for("Washington sanctioned three Iranian banks.")
    assert "nuclear" in topics_for("The IAEA inspected the enrichment site.")
    assert "ceasefire_peace" in topics_for("Both sides agreed to a cease-fire in Gaza.")


def test_no_topic_for_unrelated_text() -> None:
    assert topics_for("The weather was sunny and warm.") == []
    assert topics_for("") == []


def test_words_inside_other_words_do_not_count() -> None:
    # "war" inside "toward", "oil" inside "turmoil", "trade" inside "trademark".
    assert topics_for("They walked toward the turmoil of the trademark office.") == []


def test_document_topics_need_repeated_signals() -> None:
    text = ("The ministers discussed sanctions. New tariffs and trade limits were set. "
            "One soldier attended.")
    assert document_topics(text) == ["sanctions_trade"]
    assert document_topics("Only one mention of a nuclear plant.") == ["nuclear"]
