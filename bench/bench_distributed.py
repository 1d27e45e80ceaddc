"""Local engine vs Dask engine: ``python bench/bench_distributed.py [--n 200] [--words 600]``.

Generates N articles, then times ``core.build_dataset`` (jobs=1 and jobs=all cores,
no cache) and ``build_dataset_dask`` on a LocalCluster (one worker process per
core; the cluster's start-up is timed apart from the build), checks that every
build gives the same frames, and prints a table. Figures are wall-clock seconds
on this machine; they say nothing about a real cluster's network or disks.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gen_articles import generate  # noqa: E402

import core  # noqa: E402
from core import schemas  # noqa: E402
from core.distributed import build_dataset_dask  # noqa: E402


def _same(a: core.Dataset, b: core.Dataset) -> bool:
    return all(a.frames()[n].equals(b.frames()[n]) for n in schemas.FRAMES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--words", type=int, default=600)
    args = parser.parse_args()
    from distributed import LocalCluster

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "articles"
        generate(args.n, folder, words=args.words)
        rows = []
        t = time.perf_counter()
        ref = core.build_dataset([folder], jobs=1)
        rows.append(("local jobs=1", time.perf_counter() - t, True))
        t = time.perf_counter()
        ds = core.build_dataset([folder], jobs=cores)
        rows.append((f"local jobs={cores}", time.perf_counter() - t, _same(ref, ds)))
        t = time.perf_counter()
        with LocalCluster(n_workers=cores, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            rows.append((f"dask cluster start ({cores} workers)", time.perf_counter() - t, True))
            for label in ("dask build (cold workers)", "dask build (warm workers)"):
                t = time.perf_counter()
                ds = build_dataset_dask([folder], scheduler=cluster.scheduler_address)
                rows.append((label, time.perf_counter() - t, _same(ref, ds)))
        t = time.perf_counter()
        ds = build_dataset_dask([folder])  # what `--engine dask` without --scheduler does
        rows.append(("dask, own local cluster (total)", time.perf_counter() - t, _same(ref, ds)))

    words = sum(len(x.split()) for x in ref.documents[schemas.DOC.text])
    print(f"{args.n} articles, {words} words, {ref.counts()['events']} events, {cores} cores")
    print(f"{'engine':<36}{'seconds':>9}{'articles/s':>12}  same frames")
    for label, secs, same in rows:
        rate = f"{args.n / secs:>12.1f}" if "start" not in label else f"{'':>12}"
        print(f"{label:<36}{secs:>9.2f}{rate}  {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
