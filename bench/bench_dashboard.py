"""Dashboard speed: cold start on the seeds, filter-to-data at 10k/100k events, network layout.

    python bench/bench_dashboard.py            # everything (about two minutes)
    python bench/bench_dashboard.py --sizes 10000 --no-browser

Figures are printed, not asserted. Aims: cold start < 5 s, filter change < 300 ms at
100k events, a 1,000-node / 3,000-edge network settled and responsive in < 5 s.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import networkx as nx  # noqa: E402

from bench.gen_store import write_store  # noqa: E402
from core import load_dataset  # noqa: E402
from dashboard import data  # noqa: E402
from dashboard import filters as flt  # noqa: E402
from dashboard.components import network  # noqa: E402

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SETTLED = """() => { const a = document.querySelector('[data-testid="stApp"]');
  return a && a.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]')
    && document.querySelectorAll('[data-testid="stMetric"]').length > 0; }"""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start_browser(store: Path) -> tuple[float, float] | None:
    """(server up, first page drawn) seconds from `streamlit run` in a fresh process."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    port = _free_port()
    with sync_playwright() as p:
        # The browser starts first: its own start-up is not the dashboard's.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port",
             str(port), "--server.address", "127.0.0.1", "--", "--data", str(store)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.05)
            up = time.perf_counter() - t0
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_function(SETTLED, timeout=60_000, polling=50)
            drawn = time.perf_counter() - t0
        finally:
            browser.close()
            proc.terminate()
            proc.wait(timeout=10)
    return up, drawn


def cold_start_apptest(store: Path) -> float:
    """A fresh interpreter importing everything and running the first page (AppTest)."""
    code = (
        "import time; t=time.perf_counter();"
        "from streamlit.testing.v1 import AppTest;"
        f"at=AppTest.from_file({str(ROOT / 'dashboard' / 'app.py')!r}, default_timeout=120).run();"
        "assert not at.exception, at.exception;"
        "print(time.perf_counter()-t)"
    )
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                   env={**os.environ, data.ENV_DATA: str(store)})
    return time.perf_counter() - t


def filter_cases(prep: data.Prepared) -> dict[str, flt.Filters]:
    top = data.involvement(prep.ds.events).index[0]
    return {
        "actor (busiest)": flt.Filters(actors=(top,)),
        "type CONSULT": flt.Filters(types=("CONSULT",)),
        "country IRN": flt.Filters(countries=("IRN",)),
        "topic nuclear": flt.Filters(topics=("nuclear",)),
        "text 'met with'": flt.Filters(text="met with"),
        "from 2025-03-01": flt.Filters(date_from=date(2025, 3, 1)),
        "actor+type+text": flt.Filters(actors=(top,), types=("CONSULT",), text="in"),
    }


def rerender(store: Path) -> dict[str, float]:
    """Median AppTest re-run per page after changing the event-type filter."""
    from streamlit.testing.v1 import AppTest

    os.environ[data.ENV_DATA] = str(store)
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=300).run()
    types = at.multiselect(key=flt.KEY.types).options
    out = {}
    for view in ("overview", "events", "entities", "map", "timeline", "network"):
        at.switch_page(f"views/{view}.py").run()
        runs = []
        for i in range(3):  # a new value each time: no cache hit on the filtered view
            value = [types[(i + len(out) * 3) % len(types)]]
            t = time.perf_counter()
            at.multiselect(key=flt.KEY.types).set_value(value).run()
            runs.append(time.perf_counter() - t)
            assert not at.exception, at.exception
        out[view] = statistics.median(runs)
    return out


def random_graph(n_nodes: int, n_edges: int, seed: int = 1) -> nx.DiGraph:
    rng = random.Random(seed)
    g = nx.DiGraph()
    for i in range(n_nodes):
        g.add_node(f"e_{i:05d}", label=f"Entity {i}", type="PERSON", country="TUR",
                   events=rng.randint(1, 100), color=rng.choice(network.PALETTE))
    nodes = list(g.nodes)
    while g.number_of_edges() < n_edges:
        s, t = rng.sample(nodes, 2)
        w = rng.randint(1, 9)
        g.add_edge(s, t, weight=w, relation="CONSULT", relations=f"CONSULT ×{w}")
    return g


def network_in_browser(n_nodes: int, n_edges: int) -> tuple[float, float, float] | None:
    """(page to settled layout, click-to-event, redraw) seconds for a random graph."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    html = network.to_html(random_graph(n_nodes, n_edges))
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        path = Path(tmp) / "net.html"
        path.write_text(html, encoding="utf-8")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        t = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-stabilized='1']", timeout=60_000)
        settled = time.perf_counter() - t
        click = page.evaluate(
            """() => new Promise(done => {
                 const net = window.dyadNetwork, id = net.body.data.nodes.getIds()[0];
                 const pos = net.canvasToDOM(net.getPositions([id])[id]);
                 const canvas = document.querySelector('#graph canvas');
                 const r = canvas.getBoundingClientRect(), t0 = performance.now();
                 net.once('click', () => done((performance.now() - t0) / 1000));
                 for (const type of ['pointerdown', 'pointerup']) {
                   canvas.dispatchEvent(new PointerEvent(type, {clientX: r.left + pos.x,
                     clientY: r.top + pos.y, bubbles: true, isPrimary: true}));
                 }
                 setTimeout(() => done(-1), 5000);
               })"""
        )
        redraw = page.evaluate(
            """() => { const net = window.dyadNetwork, t0 = performance.now();
                       for (let i = 0; i < 5; i++) { net.moveTo({scale: 0.5 + i / 10});
                         net.redraw(); }
                       return (performance.now() - t0) / 5000; }"""
        )
        browser.close()
    return settled, click, redraw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dyad-bench-") as tmp:
        tmp_path = Path(tmp)
        print("== cold start on the seeds ==")
        seeds = tmp_path / "seeds-store"
        t = time.perf_counter()
        data.build_store([data.SEEDS_DIR], seeds, None)
        print(f"build seeds store (first start only)   {ms(time.perf_counter() - t)}")
        print(f"fresh process, AppTest first page      {ms(cold_start_apptest(seeds))}")
        if not args.no_browser:
            res = cold_start_browser(seeds)
            if res is None:
                print("browser cold start: skipped (no chromium/playwright)")
            else:
                print(f"streamlit run -> server up             {ms(res[0])}")
                print(f"streamlit run -> first page in browser {ms(res[1])}")

        for n in args.sizes:
            print(f"\n== {n:,} events ==")
            store = tmp_path / f"store{n}"
            t = time.perf_counter()
            write_store(store, n, seed=7)
            print(f"generate store                          {ms(time.perf_counter() - t)}")
            t = time.perf_counter()
            prep = data.prepare(load_dataset(store))
            print(f"load + prepare (once per store)         {ms(time.perf_counter() - t)}")
            print(f"{'filter':<26}{'events':>10}{'apply()':>14}")
            for name, f in filter_cases(prep).items():
                view = flt.apply(prep.ds, f, prep.aux)
                took = timed(lambda f=f, p=prep: flt.apply(p.ds, f, p.aux))
                print(f"{name:<26}{len(view.events):>10,}{ms(took):>14}")
            print(f"{'page re-render after a filter change (AppTest, median of 3)':<40}")
            for view, took in rerender(store).items():
                print(f"  {view:<24}{ms(took):>14}")

        if not args.no_browser:
            print("\n== network in Chromium (1,000 nodes, 3,000 edges) ==")
            res = network_in_browser(1000, 3000)
            if res is None:
                print("skipped (no chromium/playwright)")
            else:
                print(f"load + stabilise + physics off          {ms(res[0])}")
                print(f"click -> vis 'click' event              {ms(res[1])}")
                print(f"zoom + redraw                           {ms(res[2])}")


if __name__ == "__main__":
    main()
