from pathlib import Path

import pytest

import core

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="module")
def seeds_ds(seeds_dir: Path) -> core.Dataset:
    """The bundled seeds, built once per test module (tests may change its frames)."""
    return core.build_dataset([seeds_dir])
