"""Several analysts on one Dyad instance: latency of page changes under concurrent use.

    python bench/bench_concurrency.py                      # 100k events, 10 users
    python bench/bench_concurrency.py --events 20000 --users 4

A synthetic store is generated (bench/gen_store.py), `streamlit run` serves it on
127.0.0.1, and one headless Chromium opens one context per user. Every user, at
the same time, opens the app, changes filters through URL parameters and the
sidebar, and switches pages. The latency of an action runs from the action to the
page being rendered again (Streamlit's script run over, no skeleton left). Errors
are exception boxes on a page, uncaught page errors, and actions that never settle.
Figures are printed and written to bench/results/concurrency.json, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gen_store import generate_fast  # noqa: E402
from bench.serve import serve  # noqa: E402
from core import load_dataset, save_dataset  # noqa: E402

CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
RESULTS = ROOT / "bench" / "results" / "concurrency.json"
SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]')
    && !!document.querySelector('h1');
}"""
RUNNING = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !app || app.getAttribute('data-test-script-state') !== 'notRunning';
}"""
# Uncaught errors of third-party front-end code that leave the page working: plotly's geo
# map updating after Streamlit unmounted it on a page switch (reflex-dev/reflex#6003).
KNOWN_JS_NOISE = ("_scrollZoom",)
NAV = {"overview": "Overview", "events": "Events", "entities": "Entities", "map": "Map",
       "timeline": "Timeline", "network": "Network", "sources": "Sources"}


@dataclass
class Step:
    user: int
    action: str
    seconds: float
    ok: bool
    error: str = ""
    js_noise: int = 0  # KNOWN_JS_NOISE errors seen during the step (counted, not failures)
    page: str = ""  # the title of the page the step rendered


@dataclass
class Plan:
    """What the users filter by: values that exist in the store."""
    actors: list[str]
    countries: list[str]
    types: list[str]
    words: list[str] = field(default_factory=lambda: ["talks", "border", "minister"])


def plan_for(store: Path) -> Plan:
    ds = load_dataset(store)
    ev = ds.events
    return Plan(
        actors=ev["actor_id"].value_counts().index[:10].tolist(),
        countries=ev["location"].dropna().value_counts().index[:10].tolist(),
        types=ev["type"].value_counts().index[:5].tolist(),
    )





def _actions(user: int, plan: Plan) -> list[tuple[str, str, str]]:
    """(name, kind, argument): kind 'goto' opens a URL path, 'nav' clicks a page link,
    'text' types into the sidebar's evidence filter."""
    pick = lambda xs: xs[user % len(xs)]  # noqa: E731 (each user filters differently)
    return [
        ("open overview", "goto", ""),
        ("events ?type", "goto", "events?" + urlencode({"type": pick(plan.types)})),
        ("nav timeline", "nav", "Timeline"),
        ("map ?country", "goto", "map?" + urlencode({"country": pick(plan.countries)})),
        ("sidebar text", "text", pick(plan.words)),
        ("nav entities", "nav", "Entities"),
        ("events ?actor", "goto", "events?" + urlencode({"actor": pick(plan.actors)})),
        ("nav network", "nav", "Network"),
        ("nav sources", "nav", "Sources"),
        ("nav overview", "nav", "Overview"),
    ]


async def _settle(page, timeout_ms: int) -> None:
    # The rerun may start a moment after the action; wait for it, then for its end.
    try:
        await page.wait_for_function(RUNNING, timeout=1500)
    except Exception:  # noqa: BLE001 (already over, or served from cache without a run)
        pass
    await page.wait_for_function(SETTLED, timeout=timeout_ms)
    await page.wait_for_timeout(150)
    await page.wait_for_function(SETTLED, timeout=timeout_ms)


async def _user(browser, user: int, url: str, plan: Plan, timeout_ms: int,
                skip: tuple[str, ...] = ()) -> list[Step]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page_errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1",
                                                           "data:", "blob:", "about:"))
            else outside.append(r.url))
    steps: list[Step] = []
    title = "Overview"
    try:
        for name, kind, arg in _actions(user, plan):
            if name in skip:
                continue
            if kind != "text":  # the page the action leads to; its heading must show
                title = arg if kind == "nav" else NAV[arg.split("?")[0] or "overview"]
            t0 = time.perf_counter()
            error = ""
            try:
                if kind == "goto":
                    await page.goto(f"{url}/{arg}")
                elif kind == "nav":
                    await page.locator('[data-testid="stSidebarNav"]').get_by_text(
                        arg, exact=True).click()
                else:
                    box = page.locator('[data-testid="stSidebar"]').get_by_label(
                        "Text in evidence")
                    await box.fill(arg)
                    await box.press("Enter")
                await page.get_by_role("heading", name=title, exact=True).wait_for(
                    timeout=timeout_ms)
                if kind == "text":  # the filter's rerun ends by writing it into the URL
                    await page.wait_for_function(
                        "(q) => new URLSearchParams(location.search).get('q') === q", arg=arg,
                        timeout=timeout_ms)
                await _settle(page, timeout_ms)
            except Exception as exc:  # noqa: BLE001 (a step that never settles is an error)
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            seconds = time.perf_counter() - t0
            if not error and await page.locator('[data-testid="stException"]').count():
                error = "exception box: " + (await page.locator(
                    '[data-testid="stException"]').first.inner_text())[:200]
            noise = [e for e in page_errors if any(k in e for k in KNOWN_JS_NOISE)]
            real = [e for e in page_errors if e not in noise]
            page_errors.clear()
            if not error and real:
                error = "page error: " + real[0][:200]
            if not error and outside:
                error = "request left localhost: " + outside.pop()[:200]
            steps.append(Step(user, name, seconds, not error, error, len(noise), title))
    finally:
        await context.close()
    return steps


async def run_users_async(url: str, plan: Plan, users: int, timeout_ms: int = 60_000,
                          skip: tuple[str, ...] = ()) -> list[Step]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            done = await asyncio.gather(
                *(_user(browser, u, url, plan, timeout_ms, skip) for u in range(users)))
        finally:
            await browser.close()
    return [s for steps in done for s in steps]


def run_users(url: str, plan: Plan, users: int, timeout_ms: int = 60_000,
              skip: tuple[str, ...] = ()) -> list[Step]:
    """``users`` browser contexts acting at the same time (each doing every action not
    named in ``skip``); every step of every user."""
    return asyncio.run(run_users_async(url, plan, users, timeout_ms, skip))


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise(steps: list[Step]) -> dict:
    ok = [s.seconds for s in steps if s.ok]
    by_action: dict[str, dict] = {}
    for name in dict.fromkeys(s.action for s in steps):
        mine = [s for s in steps if s.action == name]
        secs = [s.seconds for s in mine if s.ok]
        by_action[name] = {"count": len(mine), "p50": _pct(secs, 0.5), "p95": _pct(secs, 0.95),
                           "max": max(secs, default=float("nan")),
                           "errors": sum(not s.ok for s in mine)}
    return {
        "count": len(steps), "p50": _pct(ok, 0.5), "p95": _pct(ok, 0.95),
        "max": max(ok, default=float("nan")),
        "mean": statistics.fmean(ok) if ok else float("nan"),
        "errors": sum(not s.ok for s in steps),
        "known_js_noise": sum(s.js_noise for s in steps), "by_action": by_action,
    }


def _print(summary: dict) -> None:
    print(f"{'action':<16}{'count':>7}{'p50 s':>9}{'p95 s':>9}{'max s':>9}{'errors':>8}")
    for name, row in summary["by_action"].items():
        print(f"{name:<16}{row['count']:>7}{row['p50']:>9.2f}{row['p95']:>9.2f}"
              f"{row['max']:>9.2f}{row['errors']:>8}")
    print(f"{'all':<16}{summary['count']:>7}{summary['p50']:>9.2f}{summary['p95']:>9.2f}"
          f"{summary['max']:>9.2f}{summary['errors']:>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=90, help="seconds per action")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"no Chromium at {CHROMIUM}")
    with tempfile.TemporaryDirectory(prefix="dyad-conc-") as tmp:
        t0 = time.perf_counter()
        store = save_dataset(generate_fast(args.events, args.seed), Path(tmp) / "store")
        print(f"store of {args.events:,} events in {time.perf_counter() - t0:.1f}s")
        plan = plan_for(store)
        with serve(store, Path(tmp) / "server.log") as url:
            # A warm-up user fills the caches (as the first analyst of the day would); a
            # second lone user is the baseline the concurrent figures compare with.
            warm = run_users(url, plan, 1, int(args.timeout * 1000))[:1]
            alone = summarise(run_users(url, plan, 1, int(args.timeout * 1000)))
            t0 = time.perf_counter()
            steps = run_users(url, plan, args.users, int(args.timeout * 1000))
            wall = time.perf_counter() - t0
    summary = summarise(steps)
    print(f"one user alone: p50 {alone['p50']:.2f}s, p95 {alone['p95']:.2f}s, "
          f"max {alone['max']:.2f}s over {alone['count']} actions")
    print(f"{args.users} users at once:")
    _print(summary)
    for s in steps:
        if not s.ok:
            print(f"user {s.user} {s.action}: {s.error}")
    result = {
        "events": args.events, "users": args.users, "cpus": os.cpu_count(),
        "wall_seconds": round(wall, 1), "warmup_seconds": round(warm[0].seconds, 2),
        "load_average_after": os.getloadavg()[0],
        "alone": {k: v for k, v in alone.items() if k != "by_action"},
        "alone_by_action": alone["by_action"],
        **summary, "failures": [asdict(s) for s in steps if not s.ok],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, default=float))
    print(f"known third-party JS noise (not failures): {summary['known_js_noise']}")
    print(f"{args.users} users, {len(steps)} actions in {wall:.1f}s -> {RESULTS}")


if __name__ == "__main__":
    main()
