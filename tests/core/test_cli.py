"""The command line as a user runs it: python -m core build / stats."""

import subprocess
import sys
from pathlib import Path

from core import store
from tests.conftest import ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args], capture_output=True, text=True, cwd=ROOT
    )


def test_build_writes_frames_and_manifest_and_a_summary(tmp_path: Path, seeds_dir: Path) -> None:
    out = tmp_path / "store"
    res = run("build", str(seeds_dir), "--out", str(out))
    assert res.returncode == 0, res.stderr
    names = {p.name for p in store.current(out).iterdir()}
    assert names == {f"{f}.parquet" for f in
                     ("documents", "mentions", "entities", "events", "edges")} | {"build.json"}
    manifest = store.read_manifest(out)
    assert manifest["counts"]["documents"] == 2
    summary = res.stderr.strip().splitlines()[-1]
    assert summary.startswith("built 2 documents")
    assert "\r" not in res.stderr  # no progress bar when stderr is not a terminal
    assert "Traceback" not in res.stderr


def test_stats_prints_the_counts(tmp_path: Path, seeds_dir: Path) -> None:
    out = tmp_path / "store"
    run("build", str(seeds_dir), "--out", str(out), "--quiet")
    res = run("stats", str(out))
    assert res.returncode == 0
    lines = dict(line.split(None, 1) for line in res.stdout.splitlines() if line.strip())
    assert lines["documents"].strip() == "2"
    assert {"mentions", "entities", "events", "edges", "errors"} <= set(lines)


def test_bad_files_are_named_on_stderr_and_the_rest_builds(tmp_path: Path, seeds_dir: Path) -> None:
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "scan.txt").write_bytes(b"\x00\x01\x02\xff" * 200)
    res = run("build", str(seeds_dir), str(bad), "--out", str(tmp_path / "store"))
    assert res.returncode == 0
    assert "scan.txt" in res.stderr and "Traceback" not in res.stderr
    manifest = store.read_manifest(tmp_path / "store")
    assert [Path(e["file"]).name for e in manifest["errors"]] == ["scan.txt"]


def test_nothing_built_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    res = run("build", str(tmp_path / "empty.txt"), "--out", str(tmp_path / "store"))
    assert res.returncode == 2
    assert "empty.txt" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "store").exists()


def test_stats_on_a_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    res = run("stats", str(tmp_path / "nowhere"))
    assert res.returncode == 1
    assert "build.json" in res.stderr and "Traceback" not in res.stderr


def test_a_rebuild_keeps_the_store_files_of_months_no_changed_article_touches(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """Month partitions that only unchanged articles fill are hard links to the
    previous version's files; the store reads back as a fresh build of the folder."""
    import os

    import pandas as pd

    import core
    from core import schemas
    from core.cli import main

    sys.path.insert(0, str(ROOT / "bench"))
    from gen_articles import generate

    monkeypatch.setattr(store, "PARTITION_ROWS", 20)
    src, out = tmp_path / "src", tmp_path / "store"
    generate(30, src, words=150)
    assert main(["build", str(src), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    before = store.current(out).resolve() / "events"
    # A new article at the head of the listing: every later article moves down a place.
    (src / "000_new.txt").write_text(
        "Iran, Iraq talks\n\nIraqi Foreign Minister Fuad Hussein met with Iranian Foreign "
        "Minister Abbas Araghchi in Tehran on Monday.", encoding="utf-8")
    assert main(["build", str(src), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    after = store.current(out).resolve() / "events"
    assert after != before

    new_months = {p.parent.name for p in after.glob("*/*.parquet")}
    old_months = {p.parent.name for p in before.glob("*/*.parquet")}
    linked = {m for m in new_months & old_months
              if os.path.samefile(after / m / store.PART, before / m / store.PART)}
    fresh = core.build_dataset([src])
    new_doc = fresh.documents.loc[fresh.documents[schemas.DOC.source].str.endswith(
        "000_new.txt"), schemas.DOC.doc_id].item()
    new_events = fresh.events[fresh.events[schemas.EV.doc_id] == new_doc]
    touched = {f"month={d:%Y-%m}" if pd.notna(d) else "month=unknown"
               for d in new_events[schemas.EV.date]}
    assert touched and linked and not touched & linked
    assert linked | touched == new_months  # every month not touched is kept
    loaded = core.load_dataset(out)
    for name in schemas.FRAMES:
        pd.testing.assert_frame_equal(loaded.frames()[name], fresh.frames()[name])
