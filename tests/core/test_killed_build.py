"""A build killed with SIGKILL never damages the store it was writing into.

The analyst's store is rebuilt by `python -m core build` (or the dashboard) into the
same folder. A kill (OOM killer, a closed laptop lid, Ctrl-\\) may land during the
extraction or while the new version's files are being written; either way the
previous version must keep loading unchanged, and the next build must succeed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import core
from bench.gen_articles import generate
from bench.gen_store import generate_fast
from core import store as core_store

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"


def _start(args: list[str], log: Path) -> subprocess.Popen:
    # Own session: the kill reaches the build's worker processes too (its process group).
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _temp_folders(store: Path) -> list[Path]:
    versions = store / core_store.VERSIONS
    return list(versions.glob(".tmp-*")) if versions.is_dir() else []


def _snapshot(store: Path) -> tuple[dict, dict[str, int]]:
    ds = core.load_dataset(store)
    return ds.manifest, ds.counts()


@pytest.fixture(scope="module")
def seeds_dataset() -> core.Dataset:
    return core.build_dataset([SEEDS])


@pytest.fixture
def built_store(seeds_dataset: core.Dataset, tmp_path: Path) -> Path:
    return core.save_dataset(seeds_dataset, tmp_path / "store")


def test_build_killed_during_extraction_leaves_previous_version(
    built_store: Path, tmp_path: Path
) -> None:
    before = _snapshot(built_store)
    articles = tmp_path / "articles"
    generate(150, articles, seed=5, words=250)
    proc = _start(["-m", "core", "build", str(articles), "--out", str(built_store),
                   "--quiet", "--jobs", "2"], tmp_path / "killed.log")
    # Kill once the build is truly under way: its per-document cache is being filled
    # (or, on a fast machine, the new version is being written).
    cache = Path(f"{built_store}.cache")
    deadline = time.monotonic() + 60
    while not (_temp_folders(built_store) or (
            cache.is_dir() and any(p.is_file() for p in cache.rglob("*")))):
        assert proc.poll() is None, (tmp_path / "killed.log").read_text()
        assert time.monotonic() < deadline, "the build never got under way"
        time.sleep(0.01)
    assert proc.poll() is None, "the build finished before it could be killed"
    _kill(proc)

    assert _snapshot(built_store) == before  # same manifest, same frames

    # The next build (same store, same per-document cache the killed one was filling) works.
    done = subprocess.run(
        [sys.executable, "-m", "core", "build", str(articles), "--out", str(built_store),
         "--quiet", "--jobs", "2"], cwd=ROOT, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    manifest, counts = _snapshot(built_store)
    assert manifest != before[0]
    assert counts["documents"] == 150 and counts["events"] > 0


def test_save_killed_while_writing_files_leaves_previous_version(
    built_store: Path, tmp_path: Path
) -> None:
    """The kill lands inside save_dataset, with the new version half written."""
    before = _snapshot(built_store)
    script = (
        "import sys; from bench.gen_store import generate_fast; from core import save_dataset; "
        "ds = generate_fast(120_000, seed=2); print('saving', flush=True); "
        "save_dataset(ds, sys.argv[1])"
    )
    proc = _start(["-c", script, str(built_store)], tmp_path / "save.log")
    deadline = time.monotonic() + 60
    while not _temp_folders(built_store):
        assert proc.poll() is None, (tmp_path / "save.log").read_text()
        assert time.monotonic() < deadline, "the save never started"
        time.sleep(0.002)
    _kill(proc)
    leftovers = _temp_folders(built_store)
    assert leftovers, "the save had already finished when it was killed"

    assert _snapshot(built_store) == before
    assert core_store.current(built_store).resolve().parent.name == core_store.VERSIONS

    # A later save works alongside the leftover folder and points the store at itself.
    small = generate_fast(500, seed=3)
    core.save_dataset(small, built_store)
    manifest, counts = _snapshot(built_store)
    assert counts == small.counts()
    assert core.load_dataset(built_store).events["event_id"].tolist() == (
        small.events["event_id"].tolist())
