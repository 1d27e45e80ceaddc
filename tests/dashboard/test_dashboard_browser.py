"""Real browser: every page in headless Chromium, offline, against a served store.

Skipped without Chromium, except when CI=true, where a missing browser fails.
Screenshots go to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bench.gen_store import KALIN
from bench.serve import serve
from core import load_dataset
from dashboard import data
from dashboard import filters as flt
from tests.dashboard.conftest import ARTIFACTS

CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PAGES = {  # url path -> page title shown as the heading
    "": "Overview", "events": "Events", "entities": "Entities", "map": "Map",
    "timeline": "Timeline", "network": "Network", "sources": "Sources",
}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
_SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]');
}"""


def _need_browser() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "playwright is not installed"
    else:
        if CHROMIUM.exists():
            return
        reason = f"no Chromium at {CHROMIUM}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)




@pytest.fixture(scope="module")
def server(synthetic_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _need_browser()
    with serve(synthetic_store, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def seeds_server(seeds_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _need_browser()
    with serve(seeds_store, tmp_path_factory.mktemp("streamlit") / "seeds.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser_page(server: str):
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("request", lambda r: requests.append(r.url))
        page.requests = requests  # type: ignore[attr-defined]
        yield page
        browser.close()


def _open(page, server: str, path: str) -> None:
    page.goto(f"{server}/{path}")
    try:
        page.get_by_role("heading", name=PAGES[path], exact=True).wait_for(timeout=30_000)
        # Wait until the script run is over and every element has replaced its skeleton.
        page.wait_for_function(_SETTLED, timeout=30_000)
        page.wait_for_timeout(300)
        page.wait_for_function(_SETTLED, timeout=30_000)
    except Exception:
        _shot(page, f"failed_{path or 'overview'}")
        raise


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_every_page_renders_without_exception(browser_page, server: str) -> None:
    for path in PAGES:
        _open(browser_page, server, path)
        browser_page.wait_for_timeout(500)
        _shot(browser_page, f"page_{path or 'overview'}")
        assert browser_page.locator('[data-testid="stException"]').count() == 0, path


def test_seeds_pages_render(browser_page, seeds_server: str) -> None:
    for path in PAGES:
        _open(browser_page, seeds_server, path)
        _shot(browser_page, f"seeds_{path or 'overview'}")
        assert browser_page.locator('[data-testid="stException"]').count() == 0, path


def test_map_draws_country_shapes_from_local_topojson(browser_page, server: str) -> None:
    _open(browser_page, server, "map")
    browser_page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot .choroplethlayer path').length > 0",
        timeout=20_000,
    )
    _shot(browser_page, "map")
    # One filled shape per country with events; the synthetic store names 30 countries.
    shapes = browser_page.eval_on_selector_all(
        ".js-plotly-plot .choroplethlayer path", "ps => ps.map(p => (p.getAttribute('d') || ''))"
    )
    assert len([d for d in shapes if len(d) > 50]) >= 25
    # The base layers (land, coastlines, borders) come from the same topojson.
    assert browser_page.locator(".js-plotly-plot .geolayer .bglayer path, "
                                ".js-plotly-plot .geolayer .layer path").count() >= 2


def test_network_draws_nodes(browser_page, server: str) -> None:
    _open(browser_page, server, "network")
    frame = None
    deadline = time.monotonic() + 20
    while frame is None and time.monotonic() < deadline:
        frame = next((f for f in browser_page.frames
                      if f.evaluate("() => typeof window.dyadNetwork !== 'undefined'")), None)
        browser_page.wait_for_timeout(200)
    assert frame is not None, "no network iframe"
    frame.wait_for_selector("body[data-stabilized='1']", timeout=20_000)
    n_nodes = frame.evaluate("() => window.dyadNetwork.body.data.nodes.length")
    painted = frame.evaluate(
        """() => { const c = document.querySelector('#graph canvas');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
                   return n; }"""
    )
    assert n_nodes > 10
    assert painted > 1000  # coloured pixels: nodes and edges were drawn
    _shot(browser_page, "network")


def test_no_request_leaves_localhost(browser_page, server: str) -> None:
    for path in PAGES:
        _open(browser_page, server, path)
    browser_page.wait_for_timeout(1000)
    outside = [
        u for u in browser_page.requests
        if urlparse(u).scheme in ("http", "https", "ws", "wss")
        and urlparse(u).hostname not in LOCAL_HOSTS
    ]
    assert outside == []


def test_deep_link_filters_and_row_selection_shows_evidence(browser_page, server: str,
                                                            synthetic, kalin_id: str) -> None:
    page = browser_page
    page.goto(f"{server}/events?actor={kalin_id}&type=CONSULT")
    page.get_by_role("heading", name="Events", exact=True).wait_for(timeout=30_000)
    page.wait_for_function(_SETTLED, timeout=30_000)
    # The sidebar shows the filter the link carried, and the URL keeps it.
    assert page.locator('[data-testid="stSidebar"]').get_by_text(KALIN[0]).count() >= 1
    assert f"actor={kalin_id}" in page.url and "type=CONSULT" in page.url
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)  # first row's selection checkbox
    page.locator("mark.dyad-trigger").first.wait_for(timeout=15_000)
    page.wait_for_function(_SETTLED, timeout=30_000)
    _shot(page, "events_selected")
    assert page.locator("mark.dyad-actor, mark.dyad-target").count() >= 1
    assert page.locator('[data-testid="stException"]').count() == 0


def test_clicking_a_country_on_the_map_filters_to_it(browser_page, server: str) -> None:
    page = browser_page
    _open(page, server, "map")
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot .choroplethlayer path').length > 0",
        timeout=20_000,
    )
    # d3 keeps each shape's feature on the element; find Brazil (large and compact, easy to hit).
    box = page.evaluate(
        """() => { for (const p of document.querySelectorAll('.choroplethlayer path')) {
                     const d = p.__data__; if (d && d.loc === 'BRA') {
                       const r = p.getBoundingClientRect();
                       return {x: r.x + r.width * 0.55, y: r.y + r.height * 0.35}; } }
                   return null; }"""
    )
    assert box is not None
    page.mouse.click(box["x"], box["y"])
    try:  # Streamlit rewrites the URL in place (history API), without a navigation.
        page.wait_for_function("() => location.search.includes('country=BRA')", timeout=15_000)
    finally:
        _shot(page, "map_selected")
    page.wait_for_function(_SETTLED, timeout=30_000)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_text("BRA", exact=True).count() >= 1


def test_selecting_an_entity_row_opens_its_profile(browser_page, server: str,
                                                   synthetic) -> None:
    page = browser_page
    _open(page, server, "entities")
    second = data.entities_table(flt.apply(synthetic.ds, flt.Filters())).iloc[1]
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 35 + 17)  # second row's checkbox
    heading = page.get_by_role("heading", name=second[data.COL.name], exact=True)
    heading.wait_for(timeout=15_000)
    page.wait_for_function(_SETTLED, timeout=30_000)
    _shot(page, "entities_selected")
    assert page.locator('[data-testid="stException"]').count() == 0


def test_upload_adds_an_article_and_rebuilds(browser_page, tmp_path: Path) -> None:
    store = tmp_path / "store"
    data.build_store([data.SEEDS_DIR], store, None)
    before = len(load_dataset(store).documents)
    article = tmp_path / "fidan.txt"
    article.write_text(
        "Turkish Foreign Minister Hakan Fidan met with Iraqi Prime Minister Mohammed Shia "
        "al-Sudani in Baghdad on Monday to discuss border security.", encoding="utf-8")
    page = browser_page
    with serve(store, tmp_path / "server.log") as url:
        _open(page, url, "sources")
        form = page.locator('[data-testid="stForm"]').filter(has_text="Save and rebuild")
        form.locator('input[type="file"]').set_input_files(str(article))
        page.get_by_text("fidan.txt").wait_for(timeout=10_000)
        page.get_by_role("button", name="Save and rebuild").click()
        page.get_by_text("Added 1 file(s) and rebuilt the store.").wait_for(timeout=60_000)
        page.wait_for_function(_SETTLED, timeout=30_000)
        _shot(page, "sources_uploaded")
        assert page.locator('[data-testid="stException"]').count() == 0
    assert len(load_dataset(store).documents) == before + 1
