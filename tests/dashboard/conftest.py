"""Fixtures: synthetic stores (bench/gen_store.py) and the seeds store, in tmp folders."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.gen_store import KALIN, generate_dataset, write_store  # noqa: E402
from core import load_dataset  # noqa: E402
from dashboard import data  # noqa: E402

APP = str(ROOT / "dashboard" / "app.py")
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def synthetic_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 events with a hostile entity name (HTML, formula) among them."""
    return write_store(tmp_path_factory.mktemp("synthetic") / "store", 2000, seed=11,
                       hostile=True)


@pytest.fixture(scope="session")
def synthetic(synthetic_store: Path):
    return data.prepare(load_dataset(synthetic_store))


@pytest.fixture(scope="session")
def kalin_id(synthetic) -> str:
    ents = synthetic.ds.entities
    return ents.loc[ents["name"] == KALIN[0], "entity_id"].iloc[0]


@pytest.fixture(scope="session")
def seeds_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled seed articles, built by the real pipeline."""
    store = tmp_path_factory.mktemp("seeds") / "store"
    data.build_store([data.SEEDS_DIR], store, None)
    return store


@pytest.fixture
def small_dataset():
    return generate_dataset(300, seed=3, hostile=True)
