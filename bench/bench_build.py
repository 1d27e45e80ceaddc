"""Build throughput benchmark: ``python bench/bench_build.py [--sizes 100 1000] [--jobs 2]``.

For each size N it generates N news-like articles (bench/gen_articles.py), runs
``python -m core build`` on them in a subprocess and prints articles/s, words/s
and the peak resident memory of the whole process tree (workers included). Then
it adds one article and rebuilds with the cache, twice (a short report, then a
generated article), to show the incremental cost (share = rebuild seconds / full
build seconds, both wall time of the whole command).
Figures go to stdout as a table and to bench/results/build.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_articles import article, generate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

QUIET_ARTICLE = """Iran, Iraq talks

Iraqi Foreign Minister Fuad Hussein met with Iranian Foreign Minister Abbas Araghchi in \
Tehran on Monday. Hussein criticised NATO.
"""


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in kB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        p = int(entry.name)
        children.setdefault(int(fields.get("PPid", "0").strip()), []).append(p)
        rss[p] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total


def run_build(src: Path, out: Path, jobs: int, cache: bool) -> dict:
    cmd = [sys.executable, "-m", "core", "build", str(src), "--out", str(out),
           "--jobs", str(jobs), "--quiet"]
    if not cache:
        cmd.append("--no-cache")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - t0
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"build failed ({proc.returncode}):\n{err}")
    manifest = json.loads((out / "current" / "build.json").read_text())
    return {"seconds": seconds, "peak_rss_mb": peak / 1024, "manifest": manifest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--words", type=int, default=600)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "build.json")
    args = parser.parse_args()

    rows = []
    work = Path(tempfile.mkdtemp(prefix="dyad-bench-"))
    try:
        for n in args.sizes:
            src = work / f"articles_{n}"
            generate(n, src, words=args.words)
            words = sum(len(p.read_text(encoding="utf-8").split()) for p in src.iterdir())
            out = work / f"store_{n}"
            full = run_build(src, out, args.jobs, cache=True)
            # Rebuilds with the cache, one new article each: first a short report that
            # changes nothing the other articles' events read, then a generated one,
            # which may (a person's most frequent nationality can tip, say).
            (src / "zz_quiet.txt").write_text(QUIET_ARTICLE, encoding="utf-8")
            quiet = run_build(src, out, args.jobs, cache=True)
            name, text = article(n, __import__("random").Random(n + 1), args.words)
            (src / name).write_text(text, encoding="utf-8")
            incr = run_build(src, out, args.jobs, cache=True)
            counts = full["manifest"]["counts"]
            rows.append({
                "articles": n,
                "words": words,
                "jobs": args.jobs,
                "seconds": round(full["seconds"], 2),
                "articles_per_s": round(n / full["seconds"], 1),
                "words_per_s": round(words / full["seconds"]),
                "peak_rss_mb": round(full["peak_rss_mb"], 1),
                "events": counts["events"],
                "entities": counts["entities"],
                "quiet_rebuild_seconds": round(quiet["seconds"], 2),
                "quiet_rebuild_share": round(quiet["seconds"] / full["seconds"], 3),
                "quiet_rebuild_reused": quiet["manifest"]["cache"]["reused"],
                "incremental_seconds": round(incr["seconds"], 2),
                "incremental_share": round(incr["seconds"] / full["seconds"], 3),
                "incremental_peak_rss_mb": round(incr["peak_rss_mb"], 1),
                "incremental_reused": incr["manifest"]["cache"]["reused"],
                "timings": full["manifest"]["timings"],
                "incremental_timings": incr["manifest"]["timings"],
            })
            shutil.rmtree(out.with_name(out.name + ".cache"), ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    head = (f"{'articles':>9} {'jobs':>4} {'seconds':>8} {'art/s':>7} {'words/s':>8} "
            f"{'peak MB':>8} {'events':>7} {'+quiet s':>9} {'share':>6} {'+gen s':>7} "
            f"{'share':>6} {'recoded':>7}")
    print(head)
    for r in rows:
        recoded = r["articles"] + 1 - r["incremental_reused"]["events"]
        print(f"{r['articles']:>9} {r['jobs']:>4} {r['seconds']:>8} {r['articles_per_s']:>7} "
              f"{r['words_per_s']:>8} {r['peak_rss_mb']:>8} {r['events']:>7} "
              f"{r['quiet_rebuild_seconds']:>9} {r['quiet_rebuild_share']:>6} "
              f"{r['incremental_seconds']:>7} {r['incremental_share']:>6} {recoded:>7}")
    print("+quiet: rebuild after adding a short report; +gen: after adding a generated article;"
          " recoded: articles whose events that rebuild coded again")
    for a, b in zip(rows, rows[1:], strict=False):
        ratio = (b["seconds"] / a["seconds"]) / (b["articles"] / a["articles"])
        print(f"scaling {a['articles']} -> {b['articles']}: time x{b['seconds'] / a['seconds']:.1f}"
              f" for input x{b['articles'] / a['articles']:.0f} (per-article cost x{ratio:.2f}),"
              f" peak RSS x{b['peak_rss_mb'] / a['peak_rss_mb']:.2f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
