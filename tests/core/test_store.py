"""Stores on disk: round trip, validation on load, atomic replacement."""

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import core
from core import schemas, store
from core.errors import SchemaError, StoreError


def test_round_trip_keeps_every_frame(tmp_path: Path, seeds_ds: core.Dataset) -> None:
    core.save_dataset(seeds_ds, tmp_path / "store")
    loaded = core.load_dataset(tmp_path / "store")
    for name, df in seeds_ds.frames().items():
        pd.testing.assert_frame_equal(loaded.frames()[name], df, check_like=False)
    assert loaded.manifest["counts"] == seeds_ds.counts()


def test_manifest_names_version_sources_counts_errors_timings(
    tmp_path: Path, seeds_ds: core.Dataset
) -> None:
    core.save_dataset(seeds_ds, tmp_path / "store")
    manifest = json.loads((store.current(tmp_path / "store") / "build.json").read_text())
    assert {"version", "sources", "counts", "errors", "timings"} <= set(manifest)


def test_loading_a_folder_that_is_not_a_store_names_it(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        core.load_dataset(tmp_path)
    assert str(tmp_path) in str(info.value) and "build.json" in str(info.value)


def test_missing_frame_is_reported(tmp_path: Path, seeds_ds: core.Dataset) -> None:
    core.save_dataset(seeds_ds, tmp_path / "store")
    (store.current(tmp_path / "store") / "events.parquet").unlink()
    with pytest.raises(StoreError, match="events.parquet"):
        core.load_dataset(tmp_path / "store")


def test_a_frame_that_breaks_the_contract_is_refused_on_load(
    tmp_path: Path, seeds_ds: core.Dataset
) -> None:
    core.save_dataset(seeds_ds, tmp_path / "store")
    docs = seeds_ds.documents.drop(columns=[schemas.DOC.title])
    docs.to_parquet(store.current(tmp_path / "store") / "documents.parquet")
    with pytest.raises(SchemaError, match="documents"):
        core.load_dataset(tmp_path / "store")


def test_failed_write_leaves_the_previous_store_usable(
    tmp_path: Path, seeds_ds: core.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "store"
    core.save_dataset(seeds_ds, out)
    before = store.manifest_key(out)

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(OSError):
        core.save_dataset(seeds_ds, out)
    monkeypatch.undo()
    assert store.manifest_key(out) == before
    assert len(core.load_dataset(out).documents) == len(seeds_ds.documents)
    versions = store.list_versions(out)
    assert len(versions) == 1  # no half-written version kept
    assert not [p for p in (out / "versions").iterdir() if p.name.startswith(".tmp")]


def test_previous_version_is_kept_and_can_be_restored(
    tmp_path: Path, seeds_ds: core.Dataset
) -> None:
    out = tmp_path / "store"
    core.save_dataset(seeds_ds, out)
    smaller = core.Dataset(**{**seeds_ds.frames(), "documents": seeds_ds.documents.iloc[:1]},
                           manifest=dict(seeds_ds.manifest, built_at="later"))
    for _ in range(3):
        core.save_dataset(smaller, out)
    assert len(store.list_versions(out)) == store.KEEP_VERSIONS
    store.rollback(out)
    assert len(core.load_dataset(out).documents) == 1  # the version before the last one
    core.save_dataset(seeds_ds, out)
    assert len(core.load_dataset(out).documents) == 2


def test_a_folder_that_is_not_a_store_is_never_replaced(
    tmp_path: Path, seeds_ds: core.Dataset
) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.txt").write_text("years of work")
    with pytest.raises(StoreError, match="not a Dyad store"):
        core.save_dataset(seeds_ds, precious)
    assert (precious / "chapter1.txt").read_text() == "years of work"


def test_manifest_key_changes_when_the_store_is_rewritten(
    tmp_path: Path, seeds_ds: core.Dataset
) -> None:
    core.save_dataset(seeds_ds, tmp_path / "store")
    first = store.manifest_key(tmp_path / "store")
    seeds_ds.manifest["built_at"] = "later"
    core.save_dataset(seeds_ds, tmp_path / "store")
    assert store.manifest_key(tmp_path / "store") != first


def test_a_flat_store_from_an_older_writer_is_read_and_upgraded(
    tmp_path: Path, seeds_ds: core.Dataset
) -> None:
    flat = tmp_path / "flat"
    flat.mkdir()
    for name, df in seeds_ds.frames().items():
        df.to_parquet(flat / f"{name}.parquet", index=False)
    (flat / "build.json").write_text(json.dumps(seeds_ds.manifest, default=str))
    assert len(core.load_dataset(flat).documents) == 2
    core.save_dataset(seeds_ds, flat)
    assert len(store.list_versions(flat)) == 2  # the flat files were kept as a version
    assert len(core.load_dataset(flat).documents) == 2


# --- large stores: events partitioned by month -------------------------------------------


@pytest.fixture(scope="module")
def synthetic_ds() -> core.Dataset:
    import sys

    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    from bench.gen_store import generate_dataset

    return generate_dataset(600, seed=5)


def test_large_events_are_partitioned_by_month_and_read_back_unchanged(
    tmp_path: Path, synthetic_ds: core.Dataset
) -> None:
    out = tmp_path / "store"
    core.save_dataset(synthetic_ds, out, partition_rows=100)
    folder = store.current(out)
    assert (folder / "events").is_dir() and not (folder / "events.parquet").exists()
    months = sorted(p.name for p in (folder / "events").iterdir())
    assert "month=2025-01" in months and "month=unknown" in months  # undated events
    loaded = core.load_dataset(out)
    for name, df in synthetic_ds.frames().items():
        pd.testing.assert_frame_equal(loaded.frames()[name], df)
    assert store.frame_rows(out, "events") == len(synthetic_ds.events)


def test_each_month_partition_holds_only_that_months_events(
    tmp_path: Path, synthetic_ds: core.Dataset
) -> None:
    out = tmp_path / "store"
    core.save_dataset(synthetic_ds, out, partition_rows=100)
    part = pd.read_parquet(store.current(out) / "events" / "month=2025-03" / "part-0.parquet")
    assert len(part) > 0
    assert (part[schemas.EV.date].dt.strftime("%Y-%m") == "2025-03").all()
    unknown = pd.read_parquet(store.current(out) / "events" / "month=unknown" / "part-0.parquet")
    assert unknown[schemas.EV.date].isna().all()


def test_small_frames_keep_the_single_file_layout(
    tmp_path: Path, synthetic_ds: core.Dataset
) -> None:
    out = tmp_path / "store"
    core.save_dataset(synthetic_ds, out)  # 600 events: far below PARTITION_ROWS
    assert (store.current(out) / "events.parquet").is_file()
    assert store.frame_rows(out, "events") == len(synthetic_ds.events)


def test_a_broken_partition_is_reported_not_a_traceback(
    tmp_path: Path, synthetic_ds: core.Dataset
) -> None:
    out = tmp_path / "store"
    core.save_dataset(synthetic_ds, out, partition_rows=100)
    (store.current(out) / "events" / "month=2025-02" / "part-0.parquet").write_bytes(b"junk")
    with pytest.raises(StoreError, match="events"):
        core.load_dataset(out)


def _grouped(ds: core.Dataset) -> core.Dataset:
    """The dataset with its events grouped by document in the documents' order, as a
    build makes them."""
    pos = pd.Index(ds.documents[schemas.DOC.doc_id]).get_indexer(ds.events[schemas.EV.doc_id])
    events = ds.events.iloc[pos.argsort(kind="stable")].reset_index(drop=True)
    return core.Dataset(**{**ds.frames(), "events": events}, errors=ds.errors,
                        manifest=ds.manifest)


@pytest.mark.parametrize("layout", ["grouped by document", "in any order"])
def test_partitions_read_back_in_frame_order_whatever_the_rows_order(
    tmp_path: Path, synthetic_ds: core.Dataset, layout: str
) -> None:
    ds = _grouped(synthetic_ds) if layout == "grouped by document" else core.Dataset(
        **{**synthetic_ds.frames(),
           "events": synthetic_ds.events.sample(frac=1, random_state=3).reset_index(drop=True)},
        errors=synthetic_ds.errors, manifest=synthetic_ds.manifest)
    out = tmp_path / "store"
    core.save_dataset(ds, out, partition_rows=100)
    part = pd.read_parquet(store.current(out) / "events" / "month=2025-03" / "part-0.parquet")
    # Grouped rows are keyed by their place in their document, so that a month file
    # does not change when documents elsewhere come or go; other rows by position.
    assert (store.SEQ in part) == (layout == "grouped by document")
    pd.testing.assert_frame_equal(core.load_dataset(out).events, ds.events)


def test_a_new_version_links_unchanged_months_and_keeps_one_schema(
    tmp_path: Path, synthetic_ds: core.Dataset
) -> None:
    """Months that only kept documents fill are the current version's files; the months
    written anew get the same Arrow schema, even when their topics are all empty."""
    import dataclasses

    first = _grouped(synthetic_ds)
    first.manifest = {**first.manifest, "build_id": "build-1"}
    out = tmp_path / "store"
    core.save_dataset(first, out, partition_rows=100)
    D, EV = schemas.DOC, schemas.EV
    new_doc = first.documents.iloc[[0]].assign(**{D.doc_id: "doc-new", D.source: "new.txt"})
    march = first.events[first.events[EV.date].dt.strftime("%Y-%m") == "2025-03"].head(3)
    new_events = march.assign(**{EV.doc_id: "doc-new", EV.place: None},
                              **{EV.event_id: [f"ev-new-{i}" for i in range(len(march))]})
    new_events[EV.topics] = [[] for _ in range(len(new_events))]
    second = dataclasses.replace(
        first, documents=pd.concat([first.documents, new_doc], ignore_index=True),
        events=pd.concat([first.events, new_events], ignore_index=True))
    second.manifest = {**first.manifest, "build_id": "build-2"}

    version = store.NewVersion(out, partition_rows=100)
    for name, df in second.frames().items():
        version.write(name, df, ("build-1", set(first.documents[D.doc_id])))
    version.commit(second.manifest)
    assert version.written == {"events": 1}  # March only
    before = store.list_versions(out)[0] / "events"
    after = store.current(out).resolve() / "events"
    months = sorted(p.parent.name for p in after.glob("*/*.parquet"))
    linked = [m for m in months if (after / m / store.PART).samefile(before / m / store.PART)]
    assert linked == [m for m in months if m != "month=2025-03"]
    schemas_ = {str(pq.read_schema(after / m / store.PART)) for m in months}
    assert len(schemas_) == 1
    loaded = core.load_dataset(out)
    pd.testing.assert_frame_equal(loaded.events, schemas.validate("events", second.events))
