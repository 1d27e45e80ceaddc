"""The Dask engine: the same Dataset as the local engine, built on a (local) cluster."""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import core
from core import schemas
from core.cli import main
from core.distributed import INSTALL_HINT, build_dataset_dask
from core.errors import ConfigError, DyadError
from tests.conftest import ROOT

try:
    import distributed
except ImportError:
    distributed = None

# Without Dask the engine's tests skip, except in CI, where a missing Dask is a failure.
needs_dask = pytest.mark.skipif(
    distributed is None and os.environ.get("CI") != "true",
    reason=f"Dask is not installed ({INSTALL_HINT})",
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    # Worker processes, so every record really crosses a process boundary as on a cluster.
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c.scheduler_address


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(ROOT / "bench"))
    from gen_articles import generate

    folder = tmp_path_factory.mktemp("corpus")
    generate(20, folder / "generated", words=200)
    for seed in (ROOT / "seeds").glob("*.txt"):
        (folder / seed.name).write_bytes(seed.read_bytes())
    return folder


@pytest.fixture(scope="module")
def local(corpus: Path) -> core.Dataset:
    return core.build_dataset([corpus])


def assert_same(a: core.Dataset, b: core.Dataset) -> None:
    for name in schemas.FRAMES:
        pd.testing.assert_frame_equal(a.frames()[name], b.frames()[name], obj=name)
    assert a.errors == b.errors


@needs_dask
@pytest.mark.parametrize("partitions", [None, 1, 5])
def test_dask_build_is_identical_to_the_local_build(
    cluster: str, corpus: Path, local: core.Dataset, partitions: int | None
) -> None:
    calls: list[tuple[int, int, str]] = []
    ds = build_dataset_dask([corpus], scheduler=cluster, partitions=partitions,
                            progress=lambda *a: calls.append(a))
    assert local.counts()["documents"] == 22 and local.counts()["events"] > 0
    assert_same(local, ds)
    assert ds.manifest["engine"] == "dask"
    # Progress reaches the end of both distributed stages: 22 files, then 22 documents.
    assert {(done, total, stage) for done, total, stage in calls if done == total} == {
        (22, 22, "entities"), (22, 22, "events")}


@needs_dask
def test_bad_files_are_error_records_and_the_rest_builds(
    cluster: str, corpus: Path, tmp_path: Path
) -> None:
    (tmp_path / "scan.txt").write_bytes(b"\x00\x01\x02\xff" * 200)
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "notes.xyz").write_text("hello", encoding="utf-8")
    sources = [corpus, tmp_path, tmp_path / "missing.txt"]
    ds = build_dataset_dask(sources, scheduler=cluster)
    assert len(ds.documents) == 22
    failed = {Path(e["file"]).name for e in ds.errors}
    assert failed == {"scan.txt", "empty.txt", "notes.xyz", "missing.txt"}
    assert_same(core.build_dataset(sources), ds)


@needs_dask
def test_one_article_in_files_of_different_partitions_is_one_document(
    cluster: str, seeds_dir: Path, tmp_path: Path
) -> None:
    seed = sorted(seeds_dir.glob("*.txt"))
    (tmp_path / "a.txt").write_bytes(seed[0].read_bytes())
    (tmp_path / "b.txt").write_bytes(seed[1].read_bytes())
    (tmp_path / "c.txt").write_bytes(seed[0].read_bytes())
    ds = build_dataset_dask([tmp_path], scheduler=cluster, partitions=3)
    assert len(ds.documents) == 2
    assert [str(tmp_path / "a.txt"), str(tmp_path / "c.txt")] in [
        sorted(s) for s in ds.documents[schemas.DOC.sources]
    ]
    assert_same(core.build_dataset([tmp_path]), ds)


@needs_dask
def test_relative_paths_are_read_and_named_as_given(
    cluster: str, seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    folder = tmp_path / "rel"
    folder.mkdir()
    seed = sorted(seeds_dir.glob("*.txt"))[0]
    (folder / "one.txt").write_bytes(seed.read_bytes())
    body = "Iraqi Foreign Minister Fuad Hussein met Iranian Foreign Minister Abbas Araghchi."
    (folder / "two.jsonl").write_text(
        json.dumps({"title": "Talks", "text": body}) + "\n" + json.dumps({"title": "x"}) + "\n",
        encoding="utf-8",
    )
    # The workers were started in another folder: only the client knows what "rel" means.
    monkeypatch.chdir(tmp_path)
    ds = build_dataset_dask(["rel"], scheduler=cluster, partitions=2)
    assert len(ds.documents) == 2
    assert all(s.startswith("rel/") for s in ds.documents[schemas.DOC.source])
    assert [e["file"][:4] for e in ds.errors] == ["rel/"]
    assert_same(core.build_dataset(["rel"]), ds)


@needs_dask
def test_on_error_raise_stops_at_the_first_bad_file(cluster: str, tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    with pytest.raises(DyadError, match="empty.txt"):
        build_dataset_dask([tmp_path], scheduler=cluster, on_error="raise")


@needs_dask
def test_unknown_backend_is_a_config_error(cluster: str, seeds_dir: Path) -> None:
    with pytest.raises(ConfigError):
        build_dataset_dask([seeds_dir], scheduler=cluster, backend="nonsense")


@needs_dask
def test_a_worker_with_other_dyad_code_is_refused(
    cluster: str, seeds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.distributed

    # Only this process sees the patch: the workers keep hashing their real code.
    monkeypatch.setattr(core.distributed, "_fingerprint", lambda: "0123456789abcdef")
    with pytest.raises(ConfigError, match="same Dyad on every worker"):
        build_dataset_dask([seeds_dir], scheduler=cluster)


@needs_dask
def test_unreachable_scheduler_is_a_config_error(seeds_dir: Path) -> None:
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), pytest.raises(
        ConfigError, match="127.0.0.1:9"
    ):
        build_dataset_dask([seeds_dir], scheduler="tcp://127.0.0.1:9")


@needs_dask
def test_cli_engine_dask_writes_a_store_that_loads(
    corpus: Path, local: core.Dataset, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "store"
    # No --scheduler: the build starts its own local cluster.
    assert main(["build", str(corpus), "--out", str(out), "--engine", "dask", "-q"]) == 0
    assert "built 22 documents" in capsys.readouterr().err
    assert_same(local, core.load_dataset(out))


def test_scheduler_without_dask_engine_is_refused(
    seeds_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = ["build", str(seeds_dir), "--out", str(tmp_path / "s"), "--scheduler", "tcp://h:8786"]
    assert main(args) == 1
    assert "--engine dask" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_without_dask_the_engine_says_how_to_install_it(
    seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails
    with pytest.raises(ConfigError, match="dyad\\[dask\\]"):
        build_dataset_dask([seeds_dir])
    out = tmp_path / "store"
    assert main(["build", str(seeds_dir), "--out", str(out), "--engine", "dask", "-q"]) == 1
    assert "pip install 'dyad[dask]'" in capsys.readouterr().err
    assert not out.exists()
