"""Three analysts on one instance at once: every page renders for each, with no error.

The same user journeys as bench/bench_concurrency.py (URL filters, the sidebar's
evidence filter, page switches), in three browser contexts at the same time, on
the synthetic store. Latency is the benchmark's business; this only checks that
concurrent sessions do not break each other (shared caches, widget state, URL).
"""

from __future__ import annotations

from pathlib import Path

from bench.bench_concurrency import NAV, plan_for, run_users, serve
from tests.dashboard.test_dashboard_browser import _need_browser

USERS = 3
SKIP = ("events ?actor", "nav overview")  # pages the other actions already open (time)


def test_three_concurrent_sessions_render_every_page(synthetic_store: Path,
                                                     tmp_path: Path) -> None:
    _need_browser()
    plan = plan_for(synthetic_store)
    with serve(synthetic_store, tmp_path / "server.log") as url:
        steps = run_users(url, plan, USERS, timeout_ms=60_000, skip=SKIP)
    failures = [f"user {s.user} {s.action}: {s.error}" for s in steps if not s.ok]
    assert failures == []
    # Every user did every action, and every page was opened.
    assert len(steps) == USERS * len({s.action for s in steps})
    assert {s.page for s in steps} == set(NAV.values())
    assert {s.user for s in steps} == set(range(USERS))


