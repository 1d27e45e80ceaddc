"""Ingestion: files of every supported format, encoding and kind of damage -> Documents."""

from __future__ import annotations

import json
import os
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import IngestError
from core.ingest import (
    MAX_FILE_BYTES,
    SUPPORTED_EXTENSIONS,
    iter_source_files,
    read_file,
    read_file_with_skips,
)

SEED_003_EXPLORE = [
    "Number of Palestinians killed at controversial Gaza aid sites reaches 833",
    "Iran cautions against UN sanctions",
    "Bitcoin hits $120K",
    "Trump greenlights sending Patriot missiles to Ukraine",
    "Small plane crash forces closure of London Southend Airport",
    "Sneak a peek at TRT Global",
    "Contact us",
]

BODY = (
    "Foreign ministers of Türkiye and Greece met in Ankara on Tuesday to discuss maritime "
    "disputes in the Aegean and a possible visit by the Greek prime minister.\n\n"
    "“We agreed to keep the channels of dialogue open,” Hakan Fidan told reporters after "
    "the meeting, adding that technical teams would meet again next month.\n\n"
    "Greek Foreign Minister Giorgos Gerapetritis said both sides wanted calm waters."
)
HEADLINE = "Türkiye and Greece agree to keep talking on Aegean disputes"


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_bytes(content.encode(encoding))
    return p


def one(path: Path):
    docs = read_file(path)
    assert len(docs) == 1
    return docs[0]


def lines_of(text: str) -> list[str]:
    return [ln for ln in text.split("\n") if ln]


# --------------------------------------------------------------------------- seeds


@pytest.fixture(scope="module")
def seed003(seeds_dir: Path):
    return one(next(seeds_dir.glob("003_*.txt")))


@pytest.fixture(scope="module")
def seed000(seeds_dir: Path):
    return one(next(seeds_dir.glob("000_*.txt")))


def test_seed_003_body_ends_with_the_article_and_keeps_no_boilerplate(seed003) -> None:
    text = seed003.text
    assert text.endswith("preparations for the upcoming elections.")
    for headline in SEED_003_EXPLORE:
        assert headline not in text
    for line in lines_of(text):
        assert not line.startswith(("Related", "SOURCE:", "date ")), line
        assert line != "2 min read"
        assert not line.endswith("/ AA"), line
        assert line != "July 9, 2025"
    assert "Explore" not in text


def test_seed_003_metadata_comes_from_the_header(seed003) -> None:
    assert seed003.published == date(2025, 7, 9)
    assert seed003.title == "Türkiye, Iraq discuss border security, counter-terrorism"
    # the headline and the dek were scraped twice; each stays once
    assert seed003.text.count(seed003.title) == 1
    assert seed003.text.count("Tensions between Iran and Israel were on the agenda") == 1
    assert "Kalin first met with Iraqi Prime Minister Mohammed Shia al-Sudani" in seed003.text


def test_seed_000_stays_whole_and_has_no_invented_date(seed000, seeds_dir: Path) -> None:
    raw = next(seeds_dir.glob("000_*.txt")).read_text(encoding="utf-8")
    assert seed000.text == unicodedata.normalize("NFC", raw).strip()
    assert seed000.published is None
    # no headline line: the title is the opening of the first sentence
    assert seed000.title.startswith("Head of National Intelligence Organization (MIT)")
    assert seed000.text.startswith(seed000.title)
    assert len(seed000.title) <= 141


def test_seed_documents_are_traceable_to_their_file(seed000, seeds_dir: Path) -> None:
    path = next(seeds_dir.glob("000_*.txt"))
    assert seed000.source == str(path)
    assert seed000.sources == [str(path)]
    assert seed000.format == "txt"
    assert len(seed000.doc_id) == 16


# --------------------------------------------------------------------------- formats


def test_markdown_front_matter_and_syntax(tmp_path: Path) -> None:
    md = (
        "---\ntitle: Ankara hosts Aegean talks\ndate: 2025-03-14\n"
        "url: https://example.org/aegean\n---\n\n"
        "# Ankara hosts Aegean talks\n\n"
        "The **foreign ministers** met in [Ankara](https://example.org/ankara) on _Friday_.\n\n"
        "![a photo](https://example.org/p.jpg)\n\n"
        "> They discussed `maritime` borders.\n\n"
        "- first point\n- second point\n"
    )
    doc = one(write(tmp_path, "talks.md", md))
    assert doc.title == "Ankara hosts Aegean talks"
    assert doc.published == date(2025, 3, 14)
    assert doc.url == "https://example.org/aegean"
    assert doc.format == "md"
    assert "The foreign ministers met in Ankara on Friday." in doc.text
    assert "They discussed maritime borders." in doc.text
    assert lines_of(doc.text)[-2:] == ["first point", "second point"]
    for mark in ("**", "](", "![", "#", "`", "---", "_Friday_"):
        assert mark not in doc.text
    assert doc.text.count("Ankara hosts Aegean talks") == 1


def test_markdown_heading_gives_the_title_without_front_matter(tmp_path: Path) -> None:
    doc = one(write(tmp_path, "a.md", f"# {HEADLINE}\n\n{BODY}\n"))
    assert doc.title == HEADLINE
    assert doc.published is None


HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Türkiye and Greece agree to keep talking on Aegean disputes | Daily Wire Service</title>
<meta property="og:title" content="{headline} | Daily Wire Service">
<meta property="og:site_name" content="Daily Wire Service">
<meta property="og:url" content="https://news.example.com/aegean-talks">
<meta property="article:published_time" content="2025-02-03T09:15:00+03:00">
<style>body {{ color: red; }} .hidden {{ display: none }}</style>
<script>var tracking = "SCRIPT TEXT";</script>
</head>
<body>
<header><a href="/">Daily Wire Service</a><nav><a href="/world">World</a>
<a href="/politics">Politics NAV</a></nav></header>
<main>
<article>
  <h1>{headline}</h1>
  <p>Foreign ministers of <b>Türkiye</b> and Greece met in Ankara on Tuesday to discuss
  maritime disputes in the Aegean and a possible visit by the Greek prime minister.</p>
  <figure><img src="x.jpg"><figcaption>Hakan Fidan greets his counterpart. / AA</figcaption>
  </figure>
  <p>&ldquo;We agreed to keep the channels of dialogue open,&rdquo; Hakan Fidan told
  reporters after the meeting, adding that technical teams would meet again next month.</p>
  <aside>ASIDE: Read our newsletter</aside>
  <p>Greek Foreign Minister Giorgos Gerapetritis said both sides<br>wanted calm waters.</p>
  <form><input name="q"><button>Search FORM</button></form>
</article>
</main>
<aside><h2>Most read</h2><ul><li>Unrelated story about football</li></ul></aside>
<footer>Contact us | FOOTER TEXT © 2025</footer>
<script>console.log("more script")</script>
</body></html>
"""


def test_html_article_body_title_date_and_url(tmp_path: Path) -> None:
    doc = one(write(tmp_path, "page.html", HTML_PAGE.format(headline=HEADLINE)))
    assert doc.title == HEADLINE
    assert doc.published == date(2025, 2, 3)
    assert doc.url == "https://news.example.com/aegean-talks"
    assert doc.format == "html"
    lines = lines_of(doc.text)
    assert lines[0] == HEADLINE
    assert lines[1].startswith("Foreign ministers of Türkiye and Greece met in Ankara on Tuesday "
                               "to discuss maritime disputes")  # source line breaks joined
    assert lines[2].startswith("“We agreed to keep the channels")  # entities decoded
    assert lines[3:] == ["Greek Foreign Minister Giorgos Gerapetritis said both sides",
                         "wanted calm waters."]
    for junk in ("SCRIPT", "color: red", "NAV", "ASIDE", "FORM", "FOOTER", "football",
                 "/ AA", "Daily Wire Service"):
        assert junk not in doc.text


def test_html_scrape_with_related_links_and_explore_list_inside_the_article(
    tmp_path: Path,
) -> None:
    page = (
        "<html><body><article><h1>Türkiye, Iraq discuss border security</h1>"
        "<div>2 min read</div>"
        "<p>MIT chief Ibrahim Kalin held talks in Baghdad on Tuesday with Iraqi officials "
        "about border security and joint counter-terrorism steps.</p>"
        "<p><a href='/x'>RelatedTRT Global - Türkiye advances in its quest</a></p>"
        "<p>Later, Kalin met Iraqi Turkmen Front officials to review the security situation "
        "in Turkmen-populated areas.</p><p>SOURCE:AA</p>"
        "<section><h3>Explore</h3><ul><li><a>Bitcoin hits $120K for first time</a></li>"
        "<li><a>Trump greenlights sending Patriot missiles to Ukraine</a></li></ul></section>"
        "</article></body></html>"
    )
    doc = one(write(tmp_path, "trt.html", page))
    assert doc.title == "Türkiye, Iraq discuss border security"
    assert doc.text.endswith("in Turkmen-populated areas.")
    for junk in ("min read", "Related", "SOURCE", "Explore", "Bitcoin", "Patriot"):
        assert junk not in doc.text


def test_html_widgets_inside_the_article_are_dropped_by_class_and_role(tmp_path: Path) -> None:
    page = (
        '<html><body><article class="story comments-enabled">'
        '<div class="byline">By Staff Writer</div>'
        f"<p>{BODY}</p>"
        '<div class="social-share">Share on Facebook Share on X</div>'
        '<div id="related_stories"><a>Unrelated football headline</a></div>'
        '<div class="ad-slot">BUY NOW</div>'
        '<div role="complementary">Sidebar quiz</div>'
        "<p>Officials will meet again in Athens after the summer, the ministry said.</p>"
        "</article></body></html>"
    )
    doc = one(write(tmp_path, "w.html", page))
    assert doc.text.startswith(BODY.split("\n")[0])
    assert doc.text.endswith("the ministry said.")
    for junk in ("Staff Writer", "Facebook", "football", "BUY NOW", "quiz"):
        assert junk not in doc.text


def test_html_json_ld_date_time_element_and_canonical_url(tmp_path: Path) -> None:
    ld = json.dumps({"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "name": "x"},
        {"@type": "NewsArticle", "headline": "LD headline", "datePublished": "2024-11-30"}]})
    page = (f'<html><head><link rel="canonical" href="https://ex.org/a"><script '
            f'type="application/ld+json">{ld}</script></head><body><div><p>{BODY}</p>'
            '</div></body></html>')
    doc = one(write(tmp_path, "ld.htm", page))
    assert doc.published == date(2024, 11, 30)
    assert doc.url == "https://ex.org/a"
    assert doc.title == "LD headline"

    page2 = (f"<html><head><title>Only a head title</title></head><body><p><time "
             f'datetime="2023-05-06T10:00">May 6</time></p><p>{BODY}</p></body></html>')
    doc2 = one(write(tmp_path, "time.html", page2))
    assert doc2.published == date(2023, 5, 6)
    assert doc2.title == "Only a head title"
    assert doc2.url is None


def test_html_url_must_be_a_web_link(tmp_path: Path) -> None:
    page = (f'<html><head><meta property="og:url" content="javascript:alert(1)"></head>'
            f"<body><p>{BODY}</p></body></html>")
    assert one(write(tmp_path, "x.html", page)).url is None


def test_truncated_html_still_gives_its_text(tmp_path: Path) -> None:
    page = HTML_PAGE.format(headline=HEADLINE)
    cut = page[: page.index("technical teams")]
    doc = one(write(tmp_path, "cut.html", cut))
    assert "Foreign ministers of Türkiye and Greece met in Ankara" in doc.text
    assert doc.text.endswith("adding that")


def test_html_without_text_is_an_error(tmp_path: Path) -> None:
    page = "<html><head><title>T</title><script>x=1</script></head><body><nav>Home</nav></body>"
    with pytest.raises(IngestError, match="no article text"):
        read_file(write(tmp_path, "empty.html", page))


def test_json_single_object_with_synonym_keys(tmp_path: Path) -> None:
    obj = {"Headline": HEADLINE, "Body": BODY, "Date": "3 February 2025",
           "Link": "https://ex.org/x"}
    p = write(tmp_path, "a.json", json.dumps(obj))
    doc = one(p)
    assert (doc.title, doc.published, doc.url) == (HEADLINE, date(2025, 2, 3), "https://ex.org/x")
    assert doc.text == BODY
    assert doc.source == str(p)
    assert doc.format == "json"


def test_json_list_and_wrapped_list_name_each_article(tmp_path: Path) -> None:
    items = [{"title": f"Story {i}", "text": f"{BODY} Story number {i}."} for i in range(3)]
    p = write(tmp_path, "many.json", json.dumps(items))
    docs = read_file(p)
    assert [d.source for d in docs] == [f"{p}#1", f"{p}#2", f"{p}#3"]
    assert [d.title for d in docs] == ["Story 0", "Story 1", "Story 2"]
    assert len({d.doc_id for d in docs}) == 3
    wrapped = write(tmp_path, "wrapped.json", json.dumps({"status": "ok", "articles": items}))
    assert [d.title for d in read_file(wrapped)] == ["Story 0", "Story 1", "Story 2"]


def test_json_nested_rendered_html_fields(tmp_path: Path) -> None:
    post = {"title": {"rendered": "Talks &amp; more"},
            "content": {"rendered": "<p>First paragraph of the post.</p><p>Second one.</p>"},
            "date": "2025-01-02T08:00:00"}
    doc = one(write(tmp_path, "wp.json", json.dumps([post])))
    assert doc.title == "Talks & more"
    assert lines_of(doc.text) == ["First paragraph of the post.", "Second one."]
    assert doc.published == date(2025, 1, 2)


def test_json_list_with_bad_items_keeps_the_good_ones_and_reports_the_rest(
    tmp_path: Path,
) -> None:
    items = [{"title": "no body here"}, {"text": BODY}, 42, {"text": "   "}]
    p = write(tmp_path, "mixed.json", json.dumps(items))
    docs, skipped = read_file_with_skips(p)
    assert [d.source for d in docs] == [f"{p}#2"]
    assert [e.path for e in skipped] == [f"{p}#1", f"{p}#3", f"{p}#4"]
    assert skipped[0].reason.startswith("no text (looked for text, body, content")
    assert [d.source for d in read_file(p)] == [f"{p}#2"]


def test_json_article_without_text_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"no text field \(looked for text, body"):
        read_file(write(tmp_path, "a.json", json.dumps({"title": "Only a title"})))
    with pytest.raises(IngestError, match="no article could be read"):
        read_file(write(tmp_path, "b.json", json.dumps([{"title": "x"}, {"summary": "y"}])))


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    bad = '[\n  {"title": "a",\n   "text": "b" "c"}\n]'
    with pytest.raises(IngestError, match="invalid JSON at line 3") as err:
        read_file(write(tmp_path, "bad.json", bad))
    assert err.value.path == str(tmp_path / "bad.json")


def test_jsonl_skips_a_broken_line_and_numbers_articles_by_line(tmp_path: Path) -> None:
    lines = [json.dumps({"title": "A", "text": BODY}), "{broken", "",
             json.dumps({"title": "B", "content": BODY + " More."})]
    p = write(tmp_path, "feed.jsonl", "\n".join(lines) + "\n")
    docs, skipped = read_file_with_skips(p)
    assert [(d.title, d.source) for d in docs] == [("A", f"{p}#1"), ("B", f"{p}#4")]
    assert [e.path for e in skipped] == [f"{p}#2"]
    assert "invalid JSON at line 2" in skipped[0].reason
    assert {d.format for d in docs} == {"jsonl"}


def test_csv_columns_found_case_insensitively_one_article_per_row(tmp_path: Path) -> None:
    rows = (
        "Headline,Content,Published At,URL\n"
        f'"{HEADLINE}","{BODY.replace(chr(34), chr(34) * 2)}",2025-02-03,https://ex.org/1\n'
        '"Second story","Short body, with a comma; and a semicolon.",July 9 2025,\n'
    )
    p = write(tmp_path, "news.csv", rows)
    docs = read_file(p)
    assert [d.source for d in docs] == [f"{p}#1", f"{p}#2"]
    assert docs[0].title == HEADLINE
    assert docs[0].text == BODY  # quoted multi-line cell, paragraphs kept
    assert docs[0].published == date(2025, 2, 3)
    assert docs[0].url == "https://ex.org/1"
    assert docs[1].text == "Short body, with a comma; and a semicolon."
    assert docs[1].published == date(2025, 7, 9)
    relative = write(tmp_path, "rel.csv", "title,text,date\nA,Ministers met.,yesterday\n")
    assert one(relative).published is None  # a relative date is never resolved to "today"
    assert docs[1].url is None
    assert {d.format for d in docs} == {"csv"}


def test_csv_with_semicolons_and_bom(tmp_path: Path) -> None:
    p = write(tmp_path, "s.csv", "\ufefftitle;body\nA;Ministers met, and talked, at length.\n")
    doc = one(p)
    assert (doc.title, doc.text) == ("A", "Ministers met, and talked, at length.")


def test_csv_without_text_column_is_an_error(tmp_path: Path) -> None:
    p = write(tmp_path, "x.csv", "title,author\nA,B\n")
    with pytest.raises(IngestError, match=r"CSV has no text column \(looked for text, body, "
                                          r"content.*found: title, author"):
        read_file(p)


def test_unknown_extension_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"unsupported file type '\.pdf' \(supported: \.txt"):
        read_file(write(tmp_path, "report.pdf", "text"))
    with pytest.raises(IngestError, match="no extension"):
        read_file(write(tmp_path, "README", "text"))


def test_upper_case_extension_is_read(tmp_path: Path) -> None:
    assert one(write(tmp_path, "A.TXT", BODY)).text == BODY


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "cp1252"])
def test_encodings_decode_to_the_same_article(tmp_path: Path, encoding: str) -> None:
    text = "Café owners in Zürich said “prices rose” by 5 € — naïve, perhaps.\n\nSecond line."
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    doc = one(write(tmp_path, f"{encoding}.txt", data))
    assert doc.text == text
    assert doc.doc_id == one(write(tmp_path, "ref.txt", text)).doc_id


def test_latin1_and_turkish_single_byte_encodings(tmp_path: Path) -> None:
    french = "Le président français a rencontré à Paris le ministre allemand des affaires."
    assert one(write(tmp_path, "fr.txt", french, "latin-1")).text == french
    turkish = ("Dışişleri Bakanı Hakan Fidan, Yunanistan ile görüşmelerin süreceğini söyledi. "
               "Ankara'daki toplantıda Ege'deki sorunlar ele alındı.")
    assert one(write(tmp_path, "tr.txt", turkish, "cp1254")).text == turkish


def test_mojibake_is_repaired_and_text_is_nfc(tmp_path: Path) -> None:
    doc = one(write(tmp_path, "m.txt", "TÃ¼rkiye and Greece met. The minister’s aide said so."))
    assert doc.text == "Türkiye and Greece met. The minister’s aide said so."
    decomposed = unicodedata.normalize("NFD", "Türkiye’s Kalın met Güler in Ankara today.")
    doc2 = one(write(tmp_path, "nfd.txt", decomposed))
    assert unicodedata.is_normalized("NFC", doc2.text)
    assert "Türkiye" in doc2.text


def test_whitespace_is_normalised_but_paragraphs_stay(tmp_path: Path) -> None:
    raw = ("  First\u00a0paragraph   has\tspaces.\r\nSame paragraph, next line.\r\n\r\n\r\n\r\n"
           "Second\u200b paragraph.  \n\n\n")
    doc = one(write(tmp_path, "w.txt", raw))
    assert doc.text == ("First paragraph has spaces.\nSame paragraph, next line.\n\n"
                        "Second paragraph.")


def test_same_article_in_different_files_formats_and_encodings_shares_its_id(
    tmp_path: Path,
) -> None:
    txt = one(write(tmp_path, "a.txt", f"{HEADLINE}\n\n{BODY}\n"))
    utf16 = one(write(tmp_path, "b.txt", f"{HEADLINE}\r\n\r\n{BODY}", "utf-16"))
    js = one(write(tmp_path, "c.json", json.dumps({"title": HEADLINE, "text": BODY})))
    md = one(write(tmp_path, "d.md", f"# {HEADLINE}\n\n{BODY}"))
    html = one(write(tmp_path, "e.html", HTML_PAGE.format(headline=HEADLINE)))
    assert txt.doc_id == utf16.doc_id == js.doc_id == md.doc_id
    assert txt.title == js.title == md.title == html.title == HEADLINE
    other = one(write(tmp_path, "f.txt", f"{HEADLINE}\n\n{BODY} One more sentence."))
    assert other.doc_id != txt.doc_id


# --------------------------------------------------------------------------- boilerplate


def test_scraped_boilerplate_lines_and_trailing_blocks_are_removed(tmp_path: Path) -> None:
    raw = (
        "WORLD\n"
        f"{HEADLINE}\n"
        "By Ayse Kaya and John Smith\n"
        "Published: 3 February 2025 10:32 GMT\n"
        "4 min read\n"
        "Photo: Reuters\n"
        f"{BODY}\n\n"
        "Related: Greece and Türkiye sign migration deal\n\n"
        "Advertisement\n\n"
        "Officials said the next round would be held in Athens, and the date would be set "
        "after the summer.\n\n"
        "Read more\n"
        "Greek island wildfire forces evacuations\n"
        "Sign up for our newsletter\n"
    )
    doc = one(write(tmp_path, "scraped.txt", raw))
    assert doc.title == HEADLINE
    assert doc.published == date(2025, 2, 3)
    assert doc.text.startswith(HEADLINE + "\n" + BODY.split("\n")[0])
    assert doc.text.endswith("would be set after the summer.")
    for junk in ("WORLD", "By Ayse", "Published", "min read", "Photo:", "Related",
                 "Advertisement", "Read more", "wildfire", "Sign up"):
        assert junk not in doc.text


def test_marker_words_inside_sentences_and_early_markers_do_not_cut_the_body(
    tmp_path: Path,
) -> None:
    raw = (
        f"{HEADLINE}\nSign up\n{BODY}\n\n"
        "Related talks will follow in May, and more from the ministries is expected soon.\n"
        "Explore options for the coming round were discussed at the meeting by both sides."
    )
    doc = one(write(tmp_path, "a.txt", raw))
    assert doc.text.startswith(HEADLINE + "\n" + BODY[:40])
    assert doc.text.endswith("discussed at the meeting by both sides.")
    assert "Sign up" not in doc.text


@pytest.mark.parametrize(
    ("line", "expected"),
    [("July 9, 2025", date(2025, 7, 9)), ("9 July 2025", date(2025, 7, 9)),
     ("2025-07-09", date(2025, 7, 9)),
     ("Updated: Wednesday, Jul. 9, 2025 at 14:05", date(2025, 7, 9)),
     ("09.07.2025", date(2025, 7, 9)), ("date 2024-02-29 POLITICS", date(2024, 2, 29)),
     ("February 30, 2025", None)],
)
def test_datelines_near_the_top_set_published(tmp_path: Path, line: str, expected) -> None:
    doc = one(write(tmp_path, "d.txt", f"{HEADLINE}\n{line}\n\n{BODY}"))
    assert doc.published == expected
    if expected is not None:
        assert line not in doc.text  # used as metadata, so not body text


def test_dates_inside_sentences_or_deep_in_the_body_are_not_publication_dates(
    tmp_path: Path,
) -> None:
    raw = f"{HEADLINE}\n\nOn July 9, 2025, the ministers met.\n\n{BODY}"
    assert one(write(tmp_path, "a.txt", raw)).published is None
    deep = "\n".join(f"Paragraph {i} of the story says something." for i in range(15))
    doc = one(write(tmp_path, "b.txt", f"{deep}\nJuly 9, 2025\n"))
    assert doc.published is None
    assert doc.text.endswith("July 9, 2025")


def test_long_first_sentence_title_is_cut_at_a_word(tmp_path: Path) -> None:
    words = " ".join(["ministers"] * 40)
    doc = one(write(tmp_path, "long.txt", f"The {words} met today in Ankara.\n"))
    assert doc.title.endswith("…")
    assert len(doc.title) <= 141
    assert doc.text.startswith(doc.title[:-1])


# --------------------------------------------------------------------------- bad input


def test_empty_and_blank_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="file is empty"):
        read_file(write(tmp_path, "e.txt", b""))
    with pytest.raises(IngestError, match="no text"):
        read_file(write(tmp_path, "b.md", " \n\t\n"))


def test_binary_files_renamed_as_text_are_errors(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    with pytest.raises(IngestError, match=r"not text: looks like binary data \(PNG\)"):
        read_file(write(tmp_path, "photo.txt", png))
    blob = bytes((i * 37 + 11) % 256 for i in range(4096))
    with pytest.raises(IngestError, match="not text: looks like binary data"):
        read_file(write(tmp_path, "blob.txt", blob))


def test_too_large_file_is_refused_before_reading(tmp_path: Path) -> None:
    p = tmp_path / "huge.txt"
    with p.open("wb") as fh:  # sparse: no 50 MB written to disk
        fh.truncate(50 * 1024 * 1024)
    assert p.stat().st_size > MAX_FILE_BYTES
    with pytest.raises(IngestError, match=r"file is 50\.0 MB, over the 20 MB limit"):
        read_file(p)


def test_missing_unreadable_and_odd_paths_are_errors(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file") as err:
        read_file(tmp_path / "missing.txt")
    assert err.value.path == str(tmp_path / "missing.txt")
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    with pytest.raises(IngestError, match="is a folder"):
        read_file(folder)
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "gone.txt")
    with pytest.raises(IngestError, match="broken link"):
        read_file(link)
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(IngestError, match="not a regular file"):
        read_file(fifo)


def test_error_names_the_file_and_converts_to_a_record(tmp_path: Path) -> None:
    p = write(tmp_path, "e.txt", b"")
    with pytest.raises(IngestError) as err:
        read_file(p)
    assert err.value.to_record() == {"file": str(p), "reason": "file is empty",
                                     "kind": "IngestError"}


# --------------------------------------------------------------------------- folders


def test_iter_source_files_walks_folders_sorted_and_reports_missing(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for name in ("b/2.txt", "a.txt", "b/1.json", ".hidden.txt", ".git/config"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    broken = tmp_path / "dangling.txt"
    broken.symlink_to(tmp_path / "nowhere.txt")
    out = list(iter_source_files([tmp_path, tmp_path / "a.txt", tmp_path / "nope"]))
    files = [o for o in out if isinstance(o, Path)]
    errors = [o for o in out if isinstance(o, IngestError)]
    assert files == [tmp_path / "a.txt", tmp_path / "b" / "1.json", tmp_path / "b" / "2.txt"]
    assert [(e.path, e.reason.split(":")[0]) for e in errors] == [
        (str(broken), "broken link"), (str(tmp_path / "nope"), "no such file or folder")]
    (err,) = iter_source_files([broken])
    assert isinstance(err, IngestError) and "broken link" in err.reason


# --------------------------------------------------------------------------- fuzz

# Tokens that steer random input into each parser's interesting corners.
_TOKENS = [*'{}[]":,<>/=-#*_!pa b\n\t\r\'`~|;.0123456789', "<p>", "</p>", "<article>", "<br>",
           '"text"', '"title"', '"date"', "text,body\n", "---\n", "July 9, 2025", "Ã¼", "\u00a0",
           "é", "ı", "\x00", "\ufeff", "<script>", "Explore\n", "date 2025-01-01 "]
_TEXTISH = st.lists(st.sampled_from(_TOKENS), max_size=120).map("".join)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=2000), _TEXTISH.map(lambda s: s.encode("utf-8"))),
       ext=st.sampled_from(SUPPORTED_EXTENSIONS))
def test_fuzz_read_file_only_raises_ingest_error(tmp_path: Path, data: bytes, ext: str) -> None:
    p = tmp_path / f"fuzz{ext}"
    p.write_bytes(data)
    try:
        docs = read_file(p)
    except IngestError as exc:
        assert exc.reason
        return
    for doc in docs:
        assert doc.text.strip()
        assert doc.title.strip()
        assert unicodedata.is_normalized("NFC", doc.text)


def test_hard_wrapped_paragraphs_are_joined_so_sentences_stay_whole(tmp_path: Path) -> None:
    path = tmp_path / "wrapped.txt"
    path.write_text(
        "Qatar, Türkiye discuss Gaza\n\n"
        "Qatari Prime Minister Sheikh Mohammed bin Abdulrahman Al Thani met with\n"
        "Turkish Foreign Minister Hakan Fidan in Doha on Sunday to discuss the\n"
        "ceasefire in Gaza and the delivery of humanitarian aid, the Qatari foreign\n"
        "ministry said in a statement.\n\n"
        "The two ministers also talked about Syria.\n",
        encoding="utf-8",
    )
    (doc,) = read_file(path)
    assert "met with Turkish Foreign Minister Hakan Fidan in Doha" in doc.text
    assert "the Qatari foreign ministry said" in doc.text
    assert doc.text.count("\n\n") == 2  # title, the joined paragraph, the last paragraph


def test_lines_that_end_sentences_are_not_joined(seeds_dir: Path) -> None:
    seed = next(seeds_dir.glob("000_*.txt"))
    (doc,) = read_file(seed)
    assert doc.text.count("\n") == seed.read_text(encoding="utf-8").strip().count("\n")
