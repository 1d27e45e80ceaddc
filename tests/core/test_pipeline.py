"""build_dataset and the data contract, through the public API."""

from pathlib import Path

import pandas as pd
import pytest

import core
import core.ahead
from core import schemas
from core.errors import ConfigError


def test_seeds_build_two_documents_without_errors(seeds_ds: core.Dataset) -> None:
    assert len(seeds_ds.documents) == 2
    assert seeds_ds.errors == []
    assert seeds_ds.manifest["counts"]["documents"] == 2


def test_every_frame_has_the_contract_columns(seeds_ds: core.Dataset) -> None:
    for name, df in seeds_ds.frames().items():
        assert list(df.columns) == schemas.COLUMNS[name]
        schemas.validate(name, df)


def test_mention_offsets_point_into_the_document_text(seeds_ds: core.Dataset) -> None:
    text = seeds_ds.documents.set_index(schemas.DOC.doc_id)[schemas.DOC.text]
    for m in seeds_ds.mentions.itertuples():
        assert text[m.doc_id][m.start : m.end] == m.text


def test_every_referenced_id_exists(seeds_ds: core.Dataset) -> None:
    ents = set(seeds_ds.entities[schemas.ENT.entity_id])
    docs = set(seeds_ds.documents[schemas.DOC.doc_id])
    assert set(seeds_ds.mentions[schemas.MEN.entity_id]) <= ents
    assert set(seeds_ds.mentions[schemas.MEN.doc_id]) <= docs
    ev = seeds_ds.events
    assert set(ev[schemas.EV.doc_id]) <= docs
    assert set(ev[schemas.EV.actor_id]) <= ents
    assert set(ev[schemas.EV.target_id].dropna()) <= ents
    assert set(seeds_ds.edges[schemas.EDGE.source_id]) | set(
        seeds_ds.edges[schemas.EDGE.target_id]
    ) <= ents
    assert {i for ids in seeds_ds.edges[schemas.EDGE.event_ids] for i in ids} <= set(
        ev[schemas.EV.event_id]
    )


def test_ids_are_deterministic_across_builds_and_order(seeds_dir: Path) -> None:
    files = sorted(seeds_dir.iterdir())
    a = core.build_dataset(files)
    b = core.build_dataset(list(reversed(files)))
    for name in schemas.FRAMES:
        key = schemas.COLUMNS[name][0]
        assert sorted(a.frames()[name][key]) == sorted(b.frames()[name][key]), name


def test_same_article_in_two_files_is_one_document_with_both_sources(
    tmp_path: Path, seeds_dir: Path
) -> None:
    seed = next(seeds_dir.glob("000_*.txt"))
    (tmp_path / "a.txt").write_bytes(seed.read_bytes())
    (tmp_path / "b.txt").write_bytes(seed.read_bytes())
    ds = core.build_dataset([tmp_path])
    assert len(ds.documents) == 1
    assert sorted(ds.documents[schemas.DOC.sources][0]) == [
        str(tmp_path / "a.txt"),
        str(tmp_path / "b.txt"),
    ]


def test_articles_whose_only_mentions_resolve_to_nothing_still_build(tmp_path: Path) -> None:
    # Found by the fuzz test: a lone title before an unknown acronym is no entity.
    (tmp_path / "a.txt").write_text("Mr. AE", encoding="utf-8")
    ds = core.build_dataset([tmp_path])
    assert len(ds.documents) == 1 and len(ds.entities) == 0 and len(ds.mentions) == 0


def test_bad_file_is_reported_and_the_rest_still_builds(tmp_path: Path, seeds_dir: Path) -> None:
    (tmp_path / "notes.xyz").write_text("hello", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    ds = core.build_dataset([seeds_dir, tmp_path, tmp_path / "missing.txt"])
    assert len(ds.documents) == 2
    failed = {Path(e["file"]).name: e["reason"] for e in ds.errors}
    assert set(failed) == {"notes.xyz", "empty.txt", "missing.txt"}
    assert all(reason.strip() for reason in failed.values())


def test_on_error_raise_stops_at_the_first_bad_file(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    with pytest.raises(core.pipeline.DyadError) as info:
        core.build_dataset([tmp_path], on_error="raise")
    assert "empty.txt" in str(info.value)


def test_unknown_backend_is_a_config_error(seeds_dir: Path) -> None:
    with pytest.raises(ConfigError):
        core.build_dataset([seeds_dir], backend="nonsense")


def test_no_input_gives_empty_frames_with_contract_dtypes(tmp_path: Path) -> None:
    ds = core.build_dataset([tmp_path])
    for name, df in ds.frames().items():
        assert df.empty
        pd.testing.assert_series_equal(df.dtypes, schemas.empty_frame(name).dtypes)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from gen_articles import generate

    folder = tmp_path_factory.mktemp("generated")
    generate(core.pipeline.MIN_PARALLEL_DOCS + 4, folder, words=150)
    return folder


def test_parallel_build_gives_the_same_dataset_as_serial(generated: Path) -> None:
    serial = core.build_dataset([generated], jobs=1)
    parallel = core.build_dataset([generated], jobs=2)
    assert serial.counts()["events"] > 0
    for name in schemas.FRAMES:
        pd.testing.assert_frame_equal(serial.frames()[name], parallel.frames()[name])


def _assert_same_as_fresh_build(ds: core.Dataset, src: Path) -> None:
    fresh = core.build_dataset([src])
    for name in schemas.FRAMES:
        pd.testing.assert_frame_equal(ds.frames()[name], fresh.frames()[name])


def _first_build(generated: Path, tmp_path: Path) -> tuple[Path, Path, core.Dataset]:
    """A copy of the generated articles, built once with a cache: (folder, cache, dataset)."""
    import shutil

    src, cache = tmp_path / "src", tmp_path / "cache"
    shutil.copytree(generated, src)
    return src, cache, core.build_dataset([src], cache_dir=cache)


def test_rebuild_with_one_new_article_redoes_only_that_article(
    generated: Path, tmp_path: Path
) -> None:
    src, cache, first = _first_build(generated, tmp_path)
    n = len(first.documents)
    new = src / "zz_new.txt"
    new.write_text("Iran, Iraq talks\n\nIraqi Foreign Minister Fuad Hussein met with Iranian "
                   "Foreign Minister Abbas Araghchi in Tehran on Monday.", encoding="utf-8")
    second = core.build_dataset([src], cache_dir=cache)
    stats = second.manifest["cache"]
    # Only the new article is read and annotated; the others come from the snapshot,
    # without even opening their files or cached annotations.
    assert stats["ingest"] == {"hits": n, "misses": 1}
    assert stats["entities"] == {"hits": 0, "misses": 1}
    assert stats["reused"]["documents"] == n
    # Events are redone only where the new article changed an entity they read.
    assert 0 < stats["reused"]["events"] <= n
    assert len(second.documents) == n + 1
    assert "Abbas Araghchi" in set(second.entities["name"])
    _assert_same_as_fresh_build(second, src)


@pytest.mark.parametrize("child", ["works", "dies"])
def test_rebuild_with_workers_annotates_new_articles_in_a_process_readied_meanwhile(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, child: str
) -> None:
    """jobs > 1: a forked process readies the entity backend while the snapshot loads,
    then annotates the new article and codes its events; if it dies, the build does."""
    import os

    src, cache, first = _first_build(generated, tmp_path)
    (src / "zz_new.txt").write_text("Talks\n\nFrench President Jean Dubois met with NATO "
                                    "in Paris on Friday.", encoding="utf-8")
    answers = []
    # Other tests may leave threads behind (a Dask cluster's): forking is fine here.
    monkeypatch.setattr(core.ahead.Ahead, "possible", staticmethod(lambda jobs: True))
    call = core.ahead.Ahead.call
    monkeypatch.setattr(core.ahead.Ahead, "call",
                        lambda self, *a: answers.append(call(self, *a)) or answers[-1])
    if child == "dies":
        monkeypatch.setattr(core.ahead, "_main", lambda *args: os._exit(1))
    second = core.build_dataset([src], cache_dir=cache, jobs=2)
    # It annotates the new article, then codes its events; or, dead, does neither.
    assert len(answers) == 2
    assert all(a is None for a in answers) if child == "dies" else all(answers)
    assert second.manifest["cache"]["entities"] == {"hits": 0, "misses": 1}
    assert "Jean Dubois" in set(second.entities["name"])
    _assert_same_as_fresh_build(second, src)


def test_no_process_is_forked_beside_other_threads_or_without_workers() -> None:
    import threading

    assert core.ahead.Ahead.possible(2) == (threading.active_count() == 1)
    assert not core.ahead.Ahead.possible(1)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not core.ahead.Ahead.possible(2)
    finally:
        stop.set()
        other.join()


def test_rebuild_after_edits_removals_and_renames_equals_a_fresh_build(
    generated: Path, tmp_path: Path
) -> None:
    src, cache, _ = _first_build(generated, tmp_path)
    files = sorted(src.iterdir())
    edited = files[0]
    text = edited.read_text(encoding="utf-8")
    body, tail = text.split("\nExplore\n")  # before the scraped headline list
    edited.write_text(body + "\nPrime Minister Hans Weber criticised NATO in Berlin on Friday.\n"
                      "\nExplore\n" + tail, encoding="utf-8")
    files[1].unlink()
    files[2].rename(src / "renamed.txt")
    rebuilt = core.build_dataset([src], cache_dir=cache)
    reused = rebuilt.manifest["cache"]["reused"]
    assert reused["documents"] == len(files) - 2  # all but the edited and the removed one
    assert "renamed.txt" in " ".join(rebuilt.documents["source"])
    _assert_same_as_fresh_build(rebuilt, src)


def test_a_new_article_that_settles_names_in_old_ones_changes_them_on_rebuild(
    tmp_path: Path
) -> None:
    """Resolution that needs the collection (a lone surname, an acronym defined
    elsewhere) is redone for the old articles a new one settles."""
    src, cache = tmp_path / "src", tmp_path / "cache"
    src.mkdir()
    (src / "a.txt").write_text("Talks in Berlin\n\nNATO met in Berlin on Monday. Chancellor "
                               "Weber said the NSO would reply.", encoding="utf-8")
    (src / "b.txt").write_text("Talks in Paris\n\nFrench President Jean Dubois met with NATO "
                               "in Paris on Friday.", encoding="utf-8")
    first = core.build_dataset([src], cache_dir=cache)
    (src / "c.txt").write_text("Ankara talks\n\nGerman Chancellor Hans Weber met with the "
                               "Northern Shield Organisation (NSO) in Ankara on Tuesday.",
                               encoding="utf-8")
    second = core.build_dataset([src], cache_dir=cache)
    assert second.manifest["cache"]["entities"] == {"hits": 0, "misses": 1}
    _assert_same_as_fresh_build(second, src)

    def names_in_a(ds: core.Dataset) -> set[str]:
        a_id = ds.documents.loc[ds.documents["source"].str.endswith("a.txt"), "doc_id"].item()
        ids = set(ds.mentions.loc[ds.mentions["doc_id"] == a_id, "entity_id"])
        return set(ds.entities.loc[ds.entities["entity_id"].isin(ids), "name"])

    assert {"Weber", "NSO"} <= names_in_a(first)
    assert {"Hans Weber", "Northern Shield Organisation"} <= names_in_a(second)
    assert not {"Weber", "NSO"} & set(second.entities["name"])


def test_successive_rebuilds_add_snapshot_segments_then_rewrite_it_whole(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.setattr("core.snapshot.MAX_SEGMENTS", 3)
    src, cache, _ = _first_build(generated, tmp_path)

    def segments() -> int:
        return len(json.loads((cache / "snapshot" / "meta.json").read_text())["segments"])

    counts = [segments()]
    for i in range(4):
        (src / f"zz_{i}.txt").write_text(f"Talks {i}\n\nNATO met with the African Union in "
                                         f"Brussels on {i + 2} March.", encoding="utf-8")
        if i == 1:
            sorted(src.iterdir())[0].unlink()  # a removal too
        ds = core.build_dataset([src], cache_dir=cache)
        assert ds.manifest["cache"]["entities"] == {"hits": 0, "misses": 1}
        counts.append(segments())
        _assert_same_as_fresh_build(ds, src)  # what the segments held, applied in turn
    # One segment per rebuild over the first; past MAX_SEGMENTS all of it anew.
    assert counts == [1, 2, 3, 1, 2]


def test_a_broken_snapshot_is_not_used_and_the_build_still_works(
    generated: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    core.build_dataset([generated], cache_dir=cache)
    next((cache / "snapshot").rglob("table.arrow")).write_bytes(b"not an Arrow file")
    rebuilt = core.build_dataset([generated], cache_dir=cache)
    assert rebuilt.manifest["cache"]["reused"]["documents"] == 0
    _assert_same_as_fresh_build(rebuilt, generated)
    # The build left a good snapshot again.
    again = core.build_dataset([generated], cache_dir=cache)
    assert again.manifest["cache"]["reused"]["documents"] == len(again.documents)


def test_removing_a_duplicate_file_removes_it_from_the_sources_on_rebuild(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    text = ("Talks in Ankara\n\nTurkish Foreign Minister Hakan Fidan met with Iranian Foreign "
            "Minister Abbas Araghchi in Ankara on Monday.")
    (src / "a.txt").write_text(text, encoding="utf-8")
    (src / "b.txt").write_text(text, encoding="utf-8")
    cache = tmp_path / "cache"
    first = core.build_dataset([src], cache_dir=cache)
    assert [len(s) for s in first.documents["sources"]] == [2]
    (src / "b.txt").unlink()
    second = core.build_dataset([src], cache_dir=cache)
    assert [[Path(s).name for s in row] for row in second.documents["sources"]] == [["a.txt"]]
    _assert_same_as_fresh_build(second, src)


def test_events_are_recoded_exactly_where_an_entity_they_read_changed(seeds_dir: Path) -> None:
    from dataclasses import replace

    from core.pipeline import events_signatures

    ds = core.build_dataset([seeds_dir])
    docs = [core.model.Document(doc_id=d, source="s", title="", text="")
            for d in ds.documents["doc_id"]]
    table = ds.mentions.assign(pos=ds.mentions.groupby("doc_id").cumcount())
    entities = [core.model.Entity(**{k: v for k, v in row.items()})
                for row in ds.entities.to_dict("records")]
    before = events_signatures(docs, table, entities, "rules")
    # A person named in one article only gets a new role: only that article changes.
    counts = ds.mentions.groupby("entity_id")["doc_id"].nunique()
    person = next(e for e in entities if e.type == "PERSON" and counts[e.entity_id] == 1)
    named_in = set(ds.mentions.loc[ds.mentions["entity_id"] == person.entity_id, "doc_id"])
    changed = [replace(e, roles=[*e.roles, "Special Envoy"]) if e is person else e
               for e in entities]
    after = events_signatures(docs, table, changed, "rules")
    assert {d for d in before if before[d] != after[d]} == named_in
    # Another backend or a new publication date changes every key it touches.
    assert events_signatures(docs, table, entities, "spacy:x") != before


def test_a_snapshot_that_cannot_be_written_costs_speed_not_the_build(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    src, cache, first = _first_build(generated, tmp_path)
    before = sorted(p.name for p in (cache / "snapshot").iterdir())

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("core.snapshot.feather.write_feather", disk_full)
    (src / "zz_new.txt").write_text("Talks\n\nNATO met with the African Union in Brussels.",
                                    encoding="utf-8")
    second = core.build_dataset([src], cache_dir=cache)
    assert len(second.documents) == len(first.documents) + 1
    assert "No space left on device" in caplog.text
    # The previous snapshot is intact and nothing half-written is left beside it.
    assert sorted(p.name for p in (cache / "snapshot").iterdir()) == before
    assert not list(cache.glob(".snapshot-*"))


def _descendants(pid: int) -> list[int]:
    """Process ids below ``pid`` (Linux /proc)."""
    children: dict[int | None, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            children.setdefault(_parent(int(entry.name)), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_a_worker_killed_mid_build_changes_nothing_in_the_result(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import os
    import signal
    import sys
    import threading
    import time

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from gen_articles import generate

    src = tmp_path / "src"
    generate(160, src, words=300)
    result: dict[str, core.Dataset] = {}
    build = threading.Thread(target=lambda: result.setdefault(
        "ds", core.build_dataset([src], jobs=2)))
    before = set(_descendants(os.getpid()))
    build.start()
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and build.is_alive() and time.monotonic() < deadline:
        # Workers are the forkserver's children (the forkserver, this process's child,
        # may be left from an earlier build): new processes not directly below this one.
        workers = [p for p in _descendants(os.getpid()) if p not in before
                   and _parent(p) not in (None, os.getpid())]
        if workers:
            time.sleep(0.5)  # let it take work
            os.kill(workers[0], signal.SIGKILL)
            killed = workers[0]
        time.sleep(0.02)
    build.join(timeout=300)
    assert killed is not None, "no worker process was seen"
    assert "worker process" in caplog.text  # the build noticed and went on in-process
    serial = core.build_dataset([src], jobs=1)
    for name in schemas.FRAMES:
        pd.testing.assert_frame_equal(result["ds"].frames()[name], serial.frames()[name])
