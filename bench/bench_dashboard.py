"""Dashboard speed: cold start, filter-to-data at 10k/100k/1M events per engine, network.

    python bench/bench_dashboard.py                       # everything (several minutes)
    python bench/bench_dashboard.py --sizes 10000 100000 --no-browser --no-rerender
    python bench/bench_dashboard.py --engines-only        # just the engine table

Each (store size, engine) is measured in a fresh process: cold start (open the store
and compute the overview's data), filter-to-data (the data of the table, map and
timeline pages after a filter change, caches cleared) and the process's peak RSS.
The pandas engine loads the store; the DuckDB engine (large stores) queries the
Parquet files. Figures are printed as a table and written to
bench/results/dashboard.json, not asserted. Aims at 1M events (DuckDB): filter to
table/map/timeline data < 500 ms, memory < 2 GB, cold start < 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
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
from bench.serve import free_port  # noqa: E402
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


def cold_start_browser(store: Path) -> tuple[float, float] | None:
    """(server up, first page drawn) seconds from `streamlit run` in a fresh process."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    port = free_port()
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


RESULTS = ROOT / "bench" / "results" / "dashboard.json"
PANDAS_MAX = 1_000_000  # the pandas engine is measured up to this size (it loads everything)


def engine_cases(busiest: str) -> dict[str, flt.Filters]:
    """Typical filter changes: one actor, type + date range, a country, a phrase."""
    return {
        "actor": flt.Filters(actors=(busiest,)),
        "type+date": flt.Filters(types=("CONSULT", "ACCUSE"), date_from=date(2025, 3, 1),
                                 date_to=date(2025, 5, 31)),
        "country": flt.Filters(countries=("IRN",)),
        "text": flt.Filters(text="met with"),
    }


def _peak_mb() -> float:
    # VmHWM, not ru_maxrss: ru_maxrss survives exec and would report the parent's peak.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(store: Path, engine: str) -> dict:
    """Runs in a fresh process: cold start, filter-to-data per case, peak RSS."""
    import streamlit as st

    t0 = time.perf_counter()
    if engine == "duckdb":
        prep = data.prepare_large(store)
    else:
        prep = data.prepare(load_dataset(store))
    opened = time.perf_counter() - t0

    def page_data(f: flt.Filters) -> int:
        # What a filter change costs before drawing: the filtered view, then the data of
        # the overview, events table, map and timeline pages.
        st.cache_data.clear()
        if prep.query is not None:
            prep.query.forget()
        view = data.filtered(store, prep, f) if engine == "duckdb" else flt.apply(
            prep.ds, f, prep.aux)
        cur = data.Current(store, prep, f, view)
        data.key_figures_for(cur)
        data.top_actors(prep, view)
        data.events_by_type(view)
        data.events_table_for(cur)
        data.country_counts_for(cur, "location")
        data.timeline_for(cur, "month", "type")
        return data.n_events(cur)

    page_data(flt.Filters())
    cold = time.perf_counter() - t0
    cold_rss = _peak_mb()
    busiest = prep.event_counts.index[0]
    cases = {}
    for name, f in engine_cases(busiest).items():
        n = page_data(f)
        cases[name] = {"events": n, "seconds": timed(lambda f=f: page_data(f))}
    return {"open_s": opened, "cold_start_s": cold, "rss_after_open_mb": cold_rss,
            "peak_rss_mb": _peak_mb(), "filters": cases}


def run_worker(store: Path, engine: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(store), engine], cwd=ROOT,
        capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def engine_table(sizes: list[int], tmp_path: Path, apptest: bool) -> list[dict]:
    rows = []
    for n in sizes:
        store = tmp_path / f"fast{n}"
        # In a process of its own: the generator's memory is not the dashboard's.
        t = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen_store.py"), "--fast",
                        "--events", str(n), "--out", str(store)], check=True,
                       capture_output=True)
        generated = time.perf_counter() - t
        engines = ["pandas", "duckdb"] if n <= PANDAS_MAX else ["duckdb"]
        for engine in engines:
            res = run_worker(store, engine)
            res.update(events=n, engine=engine, generate_s=generated)
            if apptest and engine == data.engine(store, {}):
                res["apptest_cold_start_s"] = cold_start_apptest(store)
            rows.append(res)
            _print_row(res)
    return rows


def _print_row(r: dict) -> None:
    if "error" in r:
        print(f"{r['events']:>10,} {r['engine']:<7} failed: {r['error']}")
        return
    filters = "  ".join(f"{k} {v['seconds'] * 1000:6.0f} ms ({v['events']:,})"
                        for k, v in r["filters"].items())
    app = r.get("apptest_cold_start_s")
    print(f"{r['events']:>10,} {r['engine']:<7} gen {r['generate_s']:5.1f} s  "
          f"cold {r['cold_start_s']:5.2f} s"
          + (f" (app {app:5.2f} s)" if app else "")
          + f"  peak {r['peak_rss_mb']:6.0f} MB  |  {filters}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-rerender", action="store_true")
    parser.add_argument("--engines-only", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("STORE", "ENGINE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(Path(args.worker[0]), args.worker[1]), default=str))
        return
    with tempfile.TemporaryDirectory(prefix="dyad-bench-") as tmp:
        tmp_path = Path(tmp)
        print("== filter-to-data per engine (fresh process each; median of 3) ==")
        rows = engine_table(args.sizes, tmp_path, apptest=not args.engines_only)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        # Cores and load: figures from a busy 2-core box are not those of a quiet server.
        RESULTS.write_text(json.dumps({"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                       "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
                                       "runs": rows}, indent=2, default=str))
        print(f"written: {RESULTS.relative_to(ROOT)}")
        if args.engines_only:
            return
        print()
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

        for n in [n for n in args.sizes if n <= 100_000]:
            print(f"\n== {n:,} events (pandas engine, slow generator) ==")
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
            if args.no_rerender:
                continue
            print(f"{'page re-render after a filter change (AppTest, median of 3)':<40}")
            for view, took in rerender(store).items():
                print(f"  {view:<24}{ms(took):>14}")

        if not args.no_browser:
            print("\n== network in Chromium (nodes, 3 edges per node) ==")
            print(f"{'nodes':>7}{'edges':>8}{'load+settle':>14}{'click':>10}{'zoom':>10}")
            network_rows = []
            for n_nodes in (200, 1000, 3000):
                res = network_in_browser(n_nodes, 3 * n_nodes)
                if res is None:
                    print("skipped (no chromium/playwright)")
                    break
                network_rows.append({"nodes": n_nodes, "edges": 3 * n_nodes,
                                     "load_settle_s": res[0], "click_s": res[1],
                                     "zoom_s": res[2]})
                print(f"{n_nodes:>7}{3 * n_nodes:>8}{ms(res[0]):>14}{ms(res[1]):>10}"
                      f"{ms(res[2]):>10}")
            if network_rows:
                saved = json.loads(RESULTS.read_text())
                saved["network"] = network_rows
                RESULTS.write_text(json.dumps(saved, indent=2, default=str))

if __name__ == "__main__":
    main()
