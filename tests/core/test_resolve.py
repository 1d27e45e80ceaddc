"""Resolution: one entity per real-world thing, across spellings and documents."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.extract_entities import annotate
from core.ingest import read_file
from core.model import COUNTRY, LOCATION, ORGANIZATION, PERSON, Document
from core.resolve import resolve

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def seed_docs() -> list[Document]:
    docs = []
    for path in sorted(SEEDS.glob("*.txt")):
        d = read_file(path)[0]
        docs.append(replace(d, text=d.text.split("\nExplore\n")[0]))
    return docs


def docs_of(*texts: str) -> list[Document]:
    return [Document(doc_id=f"doc{i}", source="test", title="", text=t)
            for i, t in enumerate(texts)]


def run(docs: list[Document]):
    ads = [annotate(d) for d in docs]
    return ads, resolve(ads)


def entity_named(entities, name: str, type_: str | None = None):
    hits = [e for e in entities if (e.name == name or name in e.aliases)
            and (type_ is None or e.type == type_)]
    assert len(hits) == 1, (name, hits)
    return hits[0]


@pytest.fixture(scope="module")
def seeds():
    return run(seed_docs())


def test_every_mention_gets_ids_that_exist(seeds) -> None:
    ads, entities = seeds
    ids = {e.entity_id for e in entities}
    mention_ids = [m.mention_id for ad in ads for m in ad.mentions]
    assert len(mention_ids) == len(set(mention_ids)) and all(mention_ids)
    assert {m.entity_id for ad in ads for m in ad.mentions} == ids
    for ad in ads:
        for m in ad.mentions:
            assert ad.document.text[m.start:m.end] == m.text
    assert sum(e.n_mentions for e in entities) == len(mention_ids)


def test_kalin_is_one_person_across_both_articles(seeds) -> None:
    _, entities = seeds
    kalin = entity_named(entities, "Ibrahim Kalın", PERSON)
    assert kalin.name == "Ibrahim Kalın"  # diacritics kept
    assert {"Ibrahim Kalin", "Kalin", "Kalın"} <= set(kalin.aliases)
    assert kalin.n_documents == 2
    assert kalin.country == "TUR"
    assert any("chief" in r or "Head of" in r for r in kalin.roles)
    assert not [e for e in entities if e.type == PERSON and "Kalin" in e.name.replace("ı", "i")
                and e is not kalin]


def test_mit_is_one_organisation_across_both_articles(seeds) -> None:
    _, entities = seeds
    mit = entity_named(entities, "MIT", ORGANIZATION)
    assert mit.n_documents == 2
    assert {"MIT", "National Intelligence Organisation"} <= set(mit.aliases) | {mit.name}
    assert "National Intelligence Organization" in {mit.name, *mit.aliases}
    assert mit.country == "TUR"
    itc = entity_named(entities, "ITC", ORGANIZATION)
    assert itc.name == "Iraqi Turkmen Front"


def test_seed_people_are_single_entities_with_their_titles(seeds) -> None:
    _, entities = seeds
    expected = ["Ibrahim Kalın", "Esmail Khatib", "Ali Akbar Ahmadian", "Islam Dotkanlou",
                "Yaşar Güler", "Bashar Assad", "Hakan Fidan", "Abbas Araghchi",
                "Mohammed Shia al-Sudani", "Abdul Latif Rashid", "Fuad Hussein",
                "Thabit Abbasi", "Hamid al-Shatri", "Khamis al-Khanjar",
                "Mahmoud al-Mashhadani", "M. Seman Agaoglu"]
    persons = {name: entity_named(entities, name, PERSON) for name in expected}
    # one entity each, and no other person at all
    assert len({e.entity_id for e in persons.values()}) == len(expected)
    assert len([e for e in entities if e.type == PERSON]) == len(expected)
    assert "Güler" in persons["Yaşar Güler"].aliases
    assert "Assad" in persons["Bashar Assad"].aliases
    assert persons["Hakan Fidan"].roles == ["Foreign Minister"]
    assert persons["Hakan Fidan"].country == "TUR"
    assert persons["Esmail Khatib"].country == "IRN"
    assert persons["Mohammed Shia al-Sudani"].country == "IRQ"
    assert persons["Mohammed Shia al-Sudani"].roles == ["Prime Minister"]


def test_seed_countries_and_organisations(seeds) -> None:
    _, entities = seeds
    countries = {e.country: e for e in entities if e.type == COUNTRY}
    assert {"TUR", "IRN", "IRQ", "SYR", "ISR", "PSE"} <= set(countries)
    assert countries["TUR"].name == "Türkiye"
    assert "Iranian" in countries["IRN"].aliases  # demonym is an alias of the country
    assert "Turkish" in countries["TUR"].aliases
    names = {e.name for e in entities if e.type == ORGANIZATION}
    for org in ["Anadolu Agency", "PKK", "Daesh", "Supreme National Security Council", "Hamas",
                "Iraqi Turkmen Front", "Sovereignty Alliance", "Council of Representatives",
                "National Intelligence Service"]:
        assert org in names, org
    baghdad = entity_named(entities, "Baghdad", LOCATION)
    assert baghdad.country == "IRQ"


def test_ids_do_not_depend_on_document_order() -> None:
    docs = seed_docs()
    _, forward = run(docs)
    _, backward = run(list(reversed(seed_docs())))
    assert sorted((e.entity_id, e.name, tuple(e.aliases)) for e in forward) == \
        sorted((e.entity_id, e.name, tuple(e.aliases)) for e in backward)


def test_diacritics_and_case_do_not_split_people() -> None:
    _, entities = run(docs_of(
        "Defence Minister Yaşar Güler said the border was secure.",
        "Defense Minister Yasar Guler said talks went well. Guler said more.",
        "Defense Minister YAŞAR Güler said nothing."))
    guler = [e for e in entities if e.type == PERSON]
    assert len(guler) == 1
    assert guler[0].name == "Yaşar Güler"
    assert guler[0].n_documents == 3
    assert {"Defence Minister", "Defense Minister"} <= set(guler[0].roles)


def test_surname_joins_full_name_in_another_document_only_when_unambiguous() -> None:
    _, entities = run(docs_of(
        "Foreign Minister Hakan Fidan met his counterpart.",
        "Speaking in Ankara, Fidan said the talks were useful.",
        "President Ali Rashid and Speaker Omar Rashid met. Later, the talks ended.",
        "Speaking later, Rashid said nothing."))
    fidan = entity_named(entities, "Hakan Fidan", PERSON)
    assert fidan.n_documents == 2
    rashids = [e for e in entities if e.type == PERSON and "Rashid" in e.name]
    assert {e.name for e in rashids} == {"Ali Rashid", "Omar Rashid", "Rashid"}


def test_acronym_defined_in_one_document_links_in_another() -> None:
    _, entities = run(docs_of(
        "The Zorbian Liberation Front (ZLF) said it would talk.",
        "Fighters of the ZLF crossed the river, ZLF commanders said."))
    zlf = entity_named(entities, "ZLF", ORGANIZATION)
    assert zlf.name == "Zorbian Liberation Front"
    assert zlf.n_documents == 2 and zlf.n_mentions == 4


def test_british_and_american_spellings_merge() -> None:
    _, entities = run(docs_of(
        "The Zorbian Defence Organisation said it was ready.",
        "The Zorbian Defense Organization said it was ready."))
    orgs = [e for e in entities if e.type == ORGANIZATION]
    assert len(orgs) == 1
    assert set(orgs[0].aliases) | {orgs[0].name} == {
        "Zorbian Defence Organisation", "Zorbian Defense Organization"}


def test_turkish_dotted_and_dotless_i() -> None:
    _, entities = run(docs_of("MIT chief İbrahim Kalın said.", "MIT chief Ibrahim Kalin said.",
                              "MIT chief IBRAHIM KALIN said."))
    persons = [e for e in entities if e.type == PERSON]
    assert len(persons) == 1


def test_no_entity_has_a_blank_name() -> None:
    _, entities = run(docs_of("   ", "Iran.", "1 2 3", "Erdoğan İstanbul'da. Путин в Москве."))
    assert entities
    assert all(e.name.strip() for e in entities)
