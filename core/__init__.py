"""Dyad core: news articles -> documents, mentions, entities, events and edges.

Public API: build_dataset, Dataset, save_dataset, load_dataset.
"""

from core.pipeline import Dataset, __version__, build_dataset
from core.store import load_dataset, save_dataset

__all__ = ["Dataset", "__version__", "build_dataset", "load_dataset", "save_dataset"]
