"""Dyad core: news articles -> documents, mentions, entities, events and edges.

Public API: build_dataset, Dataset, save_dataset, load_dataset.

They are imported on first use, so that ``python -m core`` can start a process
(core.ahead) before the data libraries are loaded.
"""

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["Dataset", "__version__", "build_dataset", "load_dataset", "save_dataset"]
_FROM = {"Dataset": "core.pipeline", "__version__": "core.pipeline",
         "build_dataset": "core.pipeline", "load_dataset": "core.store",
         "save_dataset": "core.store"}

if TYPE_CHECKING:
    from core.pipeline import Dataset, __version__, build_dataset
    from core.store import load_dataset, save_dataset


def __getattr__(name: str) -> Any:
    if name in _FROM:
        return getattr(importlib.import_module(_FROM[name]), name)
    try:  # a submodule not imported yet: core.pipeline, core.schemas ...
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise  # the submodule is there but needs something missing
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
