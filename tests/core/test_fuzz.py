"""Fuzzing ingestion and extraction: hostile files never break a build or the contract.

Random bytes under every extension, random text and tag-soup HTML (scripts,
unbalanced tags, huge attributes, RTL and combining characters, NUL) go through
build_dataset on a temporary folder. Whatever comes in, the build finishes, a bad
file becomes an error record, every frame holds to its schema, mention offsets
point at their text, and no entity has an empty name.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core import build_dataset, schemas
from core.ingest import SUPPORTED_EXTENSIONS

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Text that gives the extractors something to find, among the noise.
NEWS = [
    "Iran accused Israel of attacking its consulate in Damascus.",
    "Turkish Foreign Minister Hakan Fidan met his Greek counterpart in Ankara on Monday.",
    "Russia's foreign ministry said the United Nations had failed.",
    "President Joe Biden spoke with Chinese President Xi Jinping on March 3, 2024.",
    "Hamas and Hezbollah condemned the strike.", "NATO", "the U.S.", "Mr.", "Dr. ",
    "2 min read", "Related:", "Explore", "By Reuters", "ANKARA, Jan 5 (Reuters) -",
    "Ukraine", "Kyiv", "al-Sisi", "O'Brien", "Jean-Luc", "McDonald", "Ibn", "«Le Monde»",
]
ODD = [
    "\x00", "\u202e", "\u202d", "\u200f", "\u200e", "\u200b", "\ufeff", "\u0301", "\u0308",
    "\u064b", "\ufffd", "\r\n", "\t", "\x0b", "\u2028", "\U0001f600", "שלום", "مرحبا",
    "Ελλάδα", "Türkiye", "İstanbul", "ß", "ﬁ", "Å", "e\u0301", "  ", "\n\n\n",
]
letters = st.characters(codec="utf-8", exclude_categories=["Cs"])
noise = st.text(alphabet=letters, max_size=40)
fragment = st.one_of(st.sampled_from(NEWS), st.sampled_from(ODD), noise)
texts = st.lists(fragment, min_size=1, max_size=25).map(" ".join)

TAGS = [
    "<p>", "</p>", "<div>", "</div>", "<script>", "</script>", "<style>", "</style>",
    "<title>", "</title>", "<h1>", "</h1>", "<a href='javascript:alert(1)'>", "</a>",
    "<br>", "<!--", "-->", "<![CDATA[", "]]>", "<meta charset='utf-16'>",
    "<meta property='og:title' content='", "'>", "<html>", "<body>", "</body>", "<",
    ">", "&amp;", "&#0;", "&#x202E;", "&nbsp;", "&bogus;", "<nav>", "<article>",
    "<img src=x onerror=alert(1)>", "<svg><script>alert(1)</script></svg>", "<?xml ?>",
    '<script type="application/ld+json">{"headline": ', "}</script>",
]
huge_attr = st.integers(1_000, 50_000).map(lambda n: f"<div data-x='{'A' * n}'>")
soup = st.lists(st.one_of(st.sampled_from(TAGS), fragment, huge_attr), min_size=1,
                max_size=40).map("".join)
regex_soup = st.from_regex(
    r"(<(script|p|div|a|b|title|meta|style|td)( [a-z]{1,8}=\"[^\"<>]{0,40}\")?>"
    r"|</(script|p|div|a|b|table)>|[A-Z][a-z]{2,9}|[ .,;\n]|&[a-z]{2,5};){1,60}",
    fullmatch=True,
)


def _json_doc(title: str, body: str) -> str:
    return json.dumps({"title": title, "text": body, "date": title[:10]}, ensure_ascii=False)


def _csv_doc(title: str, body: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows([["title", "text"], [title, body], [body, title]])
    return out.getvalue()


def _encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


text_file = st.tuples(st.sampled_from([".txt", ".md"]), texts,
                      st.sampled_from(["utf-8", "utf-16", "cp1252", "utf-8-sig"])).map(
    lambda t: (t[0], _encoded(t[1], t[2])))
html_file = st.tuples(st.sampled_from([".html", ".htm"]), st.one_of(soup, regex_soup)).map(
    lambda t: (t[0], t[1].encode("utf-8", "surrogatepass")))
record_file = st.one_of(
    st.tuples(texts, texts).map(lambda t: (".json", _json_doc(*t).encode())),
    st.lists(st.tuples(texts, texts), min_size=1, max_size=4).map(
        lambda rows: (".jsonl", "\n".join(_json_doc(*r) for r in rows).encode())),
    st.tuples(texts, texts).map(lambda t: (".csv", _csv_doc(*t).encode())),
)
byte_file = st.tuples(st.sampled_from(SUPPORTED_EXTENSIONS), st.binary(max_size=3000))


def _build_and_check(files: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, (ext, data) in enumerate(files):
            (folder / f"f{i}{ext}").write_bytes(data)
        ds = build_dataset([folder], on_error="collect")  # must not raise

        for name, df in ds.frames().items():
            schemas.validate(name, df)  # raises when the contract is broken
        for err in ds.errors:
            assert err["reason"] and err["file"]
        read = {s.split("#")[0] for srcs in ds.documents["sources"] for s in srcs}
        failed = {e["file"].split("#")[0] for e in ds.errors}
        for i, (ext, _) in enumerate(files):  # each file built, or its error says why
            path = str(folder / f"f{i}{ext}")
            assert path in read or path in failed

        texts_by_doc = dict(zip(ds.documents["doc_id"], ds.documents["text"], strict=True))
        if len(ds.mentions):
            event("has mentions")  # --hypothesis-show-statistics: the offsets check bites
        for m in ds.mentions.itertuples():
            assert texts_by_doc[m.doc_id][m.start:m.end] == m.text
        for name in ds.entities["name"]:
            assert name.strip(), f"entity with an empty name: {name!r}"
        known = set(ds.entities["entity_id"])
        assert set(ds.events["actor_id"].dropna()) <= known
        assert set(ds.events["target_id"].dropna()) <= known


@FUZZ
@given(st.lists(byte_file, min_size=1, max_size=3))
def test_random_bytes_in_every_format(files: list[tuple[str, bytes]]) -> None:
    _build_and_check(files)


@FUZZ
@given(st.lists(st.one_of(text_file, html_file, record_file), min_size=1, max_size=3))
def test_random_text_html_and_records(files: list[tuple[str, bytes]]) -> None:
    _build_and_check(files)
