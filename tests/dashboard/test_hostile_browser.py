"""Hostile articles in a real browser: nothing in an article runs, everything shows as text.

A shared Dyad instance reads articles nobody vetted and corrections a colleague
imported. Their titles, bodies, file names and (through the corrections log) entity
names carry script tags, event-handler attributes, javascript: links, Markdown,
LaTeX, template syntax and spreadsheet formulas. Every page is opened in headless
Chromium; no script may run (window.__pwned stays undefined in the page and every
iframe), no dialog may open, no request may leave localhost, the strings must be
readable as text, and the CSV downloads must not start a cell with a formula.
Screenshots go to tests/artifacts/hostile_*.png.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from urllib.parse import urlencode, urlparse

import pandas as pd
import pytest

import core
from bench.serve import serve
from core.curation import CorrectionLog, load_curated
from dashboard import data
from dashboard import filters as flt
from tests.dashboard.conftest import ARTIFACTS
from tests.dashboard.test_dashboard_browser import (
    _SETTLED,
    CHROMIUM,
    CHROMIUM_ARGS,
    LOCAL_HOSTS,
    PAGES,
    _need_browser,
)

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
SVG = "<svg onload=window.__pwned=1>"
JS_URL = "javascript:window.__pwned=1"
LATEX = "$x$"
TEMPLATE = "{{7*7}}"
FORMULAS = ('=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)")
# Corrections give entities these names (extraction itself never yields markup in a name).
HTML_NAME = "Foreign Minister <b onmouseover=window.__pwned=1>Ali</b> Khan"
MD_NAME = f"Foreign Minister **Ali** [Khan](javascript:alert(1)) {LATEX}"
SCRIPT_NAME = f"{SCRIPT}{TEMPLATE} Netanyahu"
FORMULA_NAME = FORMULAS[0]
FORMULA_ALIAS = FORMULAS[3]
RENAMES = {  # extracted name -> hostile name
    "Bashar al-Assad": HTML_NAME, "Abbas Araghchi": MD_NAME,
    "Benjamin Netanyahu": SCRIPT_NAME, "Hakan Fidan": FORMULA_NAME,
}
FORMULA_START = ("=", "+", "-", "@")

# Anything that could run: handler attributes, javascript: links, script text, iframes
# other than the network's. Evaluated in every frame.
_DANGER = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const v = (a.value || '').toLowerCase().replace(/\\s/g, '');
      if (a.name.startsWith('on') && v.includes('pwned')) bad.push(el.tagName + ' ' + a.name);
      if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(a.name)
          && v.startsWith('javascript:')) bad.push(el.tagName + ' ' + a.name + '=' + v);
    }
    // An article's <script> tag turned into an element (data inside JSON is inert).
    if (el.tagName === 'SCRIPT' && (el.textContent || '').trim().startsWith('window.__pwned'))
      bad.push('script element');
  }
  return {pwned: typeof window.__pwned !== 'undefined', bad: bad};
}"""


def write_articles(folder: Path) -> None:
    """One article per format; every event sentence carries a hostile string."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        f"{IMG}.txt": "\n".join([
            f"Ankara talks end in deadlock {SCRIPT}",
            "ANKARA, March 3, 2025 - Turkish Foreign Minister Hakan Fidan met with Iraqi Prime "
            f"Minister Mohammed Shia al-Sudani in Baghdad on Monday {SCRIPT}.",
            f"{HTML_NAME} said Turkish Foreign Minister Hakan Fidan accused Syrian President "
            f"Bashar al-Assad of shelling {IMG}.",
            f"{MD_NAME} met with Qatari Prime Minister Mohammed bin Abdulrahman Al Thani in "
            f"Doha, costing {TEMPLATE} ({JS_URL}).",
        ]),
        "briefing.html": f"""<!DOCTYPE html><html><head>
<title>&lt;script&gt;window.__pwned=1&lt;/script&gt; Cairo briefing</title>
<script>window.__pwned=1</script></head><body><article>
<h1>&lt;script&gt;window.__pwned=1&lt;/script&gt; Cairo briefing</h1>
<p>CAIRO, March 5, 2025 - Egyptian President Abdel Fattah el-Sisi met with Iranian Foreign
Minister Abbas Araghchi in Cairo on Wednesday &lt;svg onload=window.__pwned=1&gt; to discuss
<a href="{JS_URL}">Gaza</a> and {TEMPLATE}.</p>
<p>Iranian Foreign Minister Abbas Araghchi criticised Israeli Prime Minister Benjamin Netanyahu
over the strikes &lt;img src=x onerror="window.__pwned=1"&gt; that cost {LATEX}.</p>
</article></body></html>""",
        "notes.md": f"""---
title: "{LATEX} {TEMPLATE} summit in Doha"
url: "{JS_URL}"
---
# Doha summit

DOHA, March 6, 2025 - Qatari Prime Minister Mohammed bin Abdulrahman Al Thani met with Turkish Foreign Minister Hakan Fidan in Doha on Thursday `{SCRIPT}` and {TEMPLATE}.

Turkish Foreign Minister Hakan Fidan condemned Syrian President Bashar al-Assad, a [statement]({JS_URL}) said, costing {LATEX} `{SVG}`.
""",  # noqa: E501 (a Markdown paragraph on one line: one sentence)
        "feed.json": json.dumps([{
            "title": f"{SVG} Baghdad visit", "url": JS_URL, "date": "2025-03-07",
            "text": "BAGHDAD - Iraqi Prime Minister Mohammed Shia al-Sudani met with Egyptian "
                    f"President Abdel Fattah el-Sisi in Baghdad on Friday {SCRIPT} {TEMPLATE}.",
        }]),
    }
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["title", "date", "text"])
    for i, formula in enumerate(FORMULAS):
        writer.writerow([formula, f"2025-03-{10 + i}",
                         f"{formula} Syrian President Bashar al-Assad met with Iranian Foreign "
                         f"Minister Abbas Araghchi in Damascus on Monday {IMG}."])
    files["@feed=1+1.csv"] = buf.getvalue()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The articles built by the real pipeline, then renamed through the corrections log."""
    root = tmp_path_factory.mktemp("hostile")
    write_articles(root / "articles")
    ds = core.build_dataset([root / "articles"])
    store = core.save_dataset(ds, root / "store")
    log = CorrectionLog(store)
    ids = ds.entities.set_index("name")["entity_id"]
    for old, new in RENAMES.items():
        log.rename(ds, ids[old], new, "test")
    log.add_alias(ds, ids["Hakan Fidan"], FORMULA_ALIAS, "test")
    return store


@pytest.fixture(scope="module")
def hostile_ds(hostile_store: Path) -> core.Dataset:
    ds, notes = load_curated(hostile_store)
    assert notes == []  # every rename applied
    return ds


def test_hostile_strings_reach_every_field(hostile_ds: core.Dataset) -> None:
    ds = hostile_ds
    titles = " ".join(ds.documents["title"])
    text = " ".join(ds.documents["text"])
    sources = " ".join(ds.documents["source"])
    evidence = " ".join(ds.events["evidence"])
    for s in (SCRIPT, SVG, LATEX, FORMULAS[0]):
        assert s in titles, s
    for s in (SCRIPT, IMG, SVG, JS_URL, TEMPLATE, LATEX, HTML_NAME, MD_NAME):
        assert s in text, s
    for s in (SCRIPT, IMG, SVG, TEMPLATE, LATEX, *FORMULAS):
        assert s in evidence, s
    assert IMG in sources
    names = set(ds.entities["name"])
    assert set(RENAMES.values()) <= names and not set(RENAMES) & names
    # The renamed entities still take part in events (so they reach tables and the network).
    named = ds.entities.set_index("entity_id")["name"]
    involved = set(ds.events["actor_id"].map(named)) | set(ds.events["target_id"].map(named))
    assert set(RENAMES.values()) <= involved


def test_csv_exports_neutralise_formulas(hostile_ds: core.Dataset) -> None:
    prep = data.prepare(hostile_ds)
    for frame in (data.events_export(prep, hostile_ds.events), hostile_ds.entities,
                  hostile_ds.documents):
        rows = list(csv.reader(io.StringIO(data.csv_bytes(frame).decode("utf-8"))))
        cells = [c for row in rows[1:] for c in row]
        assert not [c for c in cells if c.startswith(FORMULA_START)]
        assert any(c.startswith("'=HYPERLINK") for c in cells)


# --- the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_server(hostile_store: Path, tmp_path_factory: pytest.TempPathFactory):
    _need_browser()
    with serve(hostile_store, tmp_path_factory.mktemp("streamlit") / "hostile.log") as url:
        yield url


@pytest.fixture(scope="module")
def watched_page(hostile_server: str):
    """A page recording every request and dialog; dialogs are dismissed so nothing hangs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                      accept_downloads=True)
        page = context.new_page()
        page.requests, page.dialogs = [], []  # type: ignore[attr-defined]
        context.on("request", lambda r: page.requests.append(r.url))
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        yield page
        browser.close()


def _settle(page) -> None:
    page.wait_for_function(_SETTLED, timeout=30_000)
    page.wait_for_timeout(400)
    page.wait_for_function(_SETTLED, timeout=30_000)


def _open(page, url: str, path: str) -> None:
    page.goto(f"{url}/{path}")
    page.get_by_role("heading", name=PAGES[path], exact=True).wait_for(timeout=30_000)
    _settle(page)


def _assert_safe(page, where: str) -> None:
    """No script ran in the page or any frame, no dialog, no handler or javascript: link."""
    for frame in page.frames:
        state = frame.evaluate(_DANGER)
        assert not state["pwned"], f"{where}: script ran in {frame.url}"
        assert state["bad"] == [], f"{where}: {state['bad'][:5]} in {frame.url}"
    assert page.dialogs == [], where
    assert page.locator('[data-testid="stException"]').count() == 0, where


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"hostile_{name}.png"), full_page=True)


def _visible_text(page) -> str:
    return page.evaluate("() => document.body.innerText")


def _click_row(page, grid_index: int, row: int) -> None:
    box = page.locator('[data-testid="stDataFrame"]').nth(grid_index).bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 35 * row + 17)  # the row's checkbox


def test_every_page_stays_inert_and_shows_the_text(watched_page, hostile_server: str,
                                                   hostile_ds: core.Dataset) -> None:
    page = watched_page
    for path in PAGES:
        _open(page, hostile_server, path)
        _shot(page, path or "overview")
        _assert_safe(page, path or "overview")

    # Events: the evidence and the document, hostile strings shown literally.
    _open(page, hostile_server, "events")
    _click_row(page, 0, 0)
    page.locator("mark.dyad-trigger").first.wait_for(timeout=15_000)
    _settle(page)
    page.get_by_text("Document:", exact=False).first.click()  # expand the document
    _settle(page)
    _shot(page, "events_selected")
    _assert_safe(page, "events with a row selected")
    shown = _visible_text(page)
    assert any(s in shown for s in (SCRIPT, IMG, SVG)), shown[-2000:]

    # Timeline by top actors: plotly reads some HTML in legend text; names must stay text.
    _open(page, hostile_server, "timeline")
    page.get_by_text("top actors", exact=True).click()
    page.wait_for_function("() => document.querySelectorAll('.legendtext').length > 2",
                           timeout=15_000)
    _settle(page)
    _shot(page, "timeline_actors")
    _assert_safe(page, "timeline by actor")
    legend = page.eval_on_selector_all(".legendtext", "els => els.map(e => e.textContent)")
    assert {HTML_NAME, MD_NAME, FORMULA_NAME} <= set(legend), legend

    # Entities: selecting the row of the entity renamed with an HTML handler opens its profile.
    table = data.entities_table(flt.apply(hostile_ds, flt.Filters()))
    _open(page, hostile_server, "entities")
    _click_row(page, 0, int(table.index[table[data.COL.name] == HTML_NAME][0]))
    page.get_by_role("heading", name=HTML_NAME, exact=True).wait_for(timeout=15_000)
    _settle(page)
    _shot(page, "entities_selected")
    _assert_safe(page, "entity profile")
    assert HTML_NAME in _visible_text(page)

    # Markdown and LaTeX in a name are shown as typed, not as a link or formula.
    page.get_by_role("combobox", name="Profile of").click()
    page.get_by_role("option", name=MD_NAME, exact=True).click()
    page.get_by_role("heading", name=MD_NAME, exact=True).wait_for(timeout=15_000)
    _settle(page)
    _shot(page, "entities_markdown_name")
    _assert_safe(page, "markdown-named profile")
    assert page.locator(".katex").count() == 0  # no $x$ typeset as maths
    # The editor's correction forms list names (merge candidates, aliases) too.
    page.get_by_text("Correct this entity", exact=True).click()
    page.get_by_role("combobox", name="Merge with").click()
    page.keyboard.type("Netanyahu")  # the option list is virtualised: narrow it down
    page.get_by_role("option", name=SCRIPT_NAME, exact=True).wait_for(timeout=10_000)
    _shot(page, "entities_merge_options")
    _assert_safe(page, "correction forms")
    page.keyboard.press("Escape")

    # Sources: the document table (hostile file names) and the build manifest.
    _open(page, hostile_server, "sources")
    page.get_by_text("Build manifest", exact=True).click()
    code = page.locator('[data-testid="stCode"]').first
    code.wait_for(timeout=10_000)
    assert '"curation"' in code.inner_text()
    _assert_safe(page, "sources manifest")

    outside = [u for u in page.requests
               if urlparse(u).scheme in ("http", "https", "ws", "wss")
               and urlparse(u).hostname not in LOCAL_HOSTS]
    assert outside == []


def test_network_tooltips_show_names_as_text(watched_page, hostile_server: str) -> None:
    page = watched_page
    _open(page, hostile_server, "network")
    frame = None
    for _ in range(100):
        frame = next((f for f in page.frames
                      if f.evaluate("() => typeof window.dyadNetwork !== 'undefined'")), None)
        if frame:
            break
        page.wait_for_timeout(200)
    assert frame is not None, "no network iframe"
    frame.wait_for_selector("body[data-stabilized='1']", timeout=20_000)
    labels = frame.evaluate("() => window.dyadNetwork.body.data.nodes.get().map(n => n.label)")
    assert set(RENAMES.values()) <= set(labels)
    # Hover the HTML-named node: vis shows its title element as the tooltip.
    node_id = frame.evaluate(
        """(name) => window.dyadNetwork.body.data.nodes.get().find(n => n.label === name).id""",
        HTML_NAME)
    point = frame.evaluate(
        """(id) => { const net = window.dyadNetwork; net.focus(id, {scale: 1.5});
                     return net.canvasToDOM(net.getPositions([id])[id]); }""", node_id)
    box = page.locator("iframe").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    tooltip = frame.locator("div.vis-tooltip")
    tooltip.wait_for(state="visible", timeout=10_000)
    assert HTML_NAME in tooltip.inner_text()
    assert tooltip.locator("img, svg, script, [onmouseover]").count() == 0
    _shot(page, "network_tooltip")
    _assert_safe(page, "network")


def test_csv_download_in_browser_neutralises_formulas(watched_page, hostile_server: str,
                                                      tmp_path: Path) -> None:
    page = watched_page
    for path, label in (("entities", "Entities (CSV)"), ("events", "Events (CSV)")):
        _open(page, hostile_server, path)
        with page.expect_download(timeout=30_000) as info:
            page.get_by_role("button", name=label).click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        frame = pd.read_csv(target, dtype=str, keep_default_na=False)
        cells = [c for col in frame.columns for c in frame[col]]
        assert not [c for c in cells if c.startswith(FORMULA_START)], path
        assert any(c.startswith("'=HYPERLINK") for c in cells), path
        _assert_safe(page, f"{path} download")


def test_hostile_url_parameters_and_sidebar_names_stay_text(
    watched_page, hostile_server: str, hostile_ds: core.Dataset
) -> None:
    """A shared link is untrusted too: its values and the names it selects show as text."""
    page = watched_page
    ids = hostile_ds.entities.set_index("name")["entity_id"]
    query = urlencode([("actor", ids[HTML_NAME]), ("actor", IMG), ("country", JS_URL),
                       ("q", IMG), ("from", SVG)])
    page.goto(f"{hostile_server}/events?{query}")
    page.get_by_role("heading", name="Events", exact=True).wait_for(timeout=30_000)
    _settle(page)
    _shot(page, "url_parameters")
    _assert_safe(page, "hostile URL parameters")
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert HTML_NAME in sidebar  # the selected actor's chip, as typed
    # The evidence filter matched the literal tag text: the table of those events is there.
    assert page.locator('[data-testid="stDataFrame"]').count() == 1
    shown = _visible_text(page)
    assert "onerror" in shown and "javascript:" in shown  # the warnings quote the bad values


def test_uploads_with_hostile_file_names_stay_text(watched_page, hostile_server: str,
                                                   tmp_path: Path) -> None:
    """Last in the module: the upload rebuilds the served store."""
    page = watched_page
    good = tmp_path / f"{SVG} [x](javascript:alert(1)).txt"
    good.write_text("Jordanian Foreign Minister Ayman Safadi met with Egyptian President Abdel "
                    f"Fattah el-Sisi in Amman on Sunday {SCRIPT}.", encoding="utf-8")
    bad = tmp_path / f"{IMG}.txt"
    bad.write_bytes(b"MZ\x90\x00" + b"\x00" * 64)  # an executable in disguise: rejected
    _open(page, hostile_server, "sources")
    form = page.locator('[data-testid="stForm"]').filter(has_text="Save and rebuild")
    form.locator('input[type="file"]').set_input_files([str(good), str(bad)])
    page.get_by_role("button", name="Save and rebuild").click()
    page.get_by_text("Added 1 file(s) and rebuilt the store.").wait_for(timeout=60_000)
    _settle(page)
    _shot(page, "upload")
    _assert_safe(page, "upload")
    # The rejected file is named, as typed, next to the success of the accepted one.
    alerts = " ".join(page.locator('[data-testid="stAlert"]').all_inner_texts())
    # (Chromium sends the quotes of a file name as %22.)
    assert "<img src=x onerror=" in alerts and "executable" in alerts, alerts
