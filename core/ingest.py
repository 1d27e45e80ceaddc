"""Files -> Document records (txt, md, html, json/jsonl, csv); boilerplate; dates.

STUB: interface fixed, implementation pending.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from core.errors import IngestError
from core.model import Document

SUPPORTED_EXTENSIONS = (".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".csv")


def iter_source_files(sources: Iterable[str | Path]) -> Iterator[Path | IngestError]:
    """Expand files and folders (recursively, sorted) into files to read.

    A path that does not exist or cannot be listed yields an IngestError in its place.
    """
    for src in sources:
        p = Path(src)
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        elif p.is_file():
            yield p
        else:
            yield IngestError("no such file or folder", p)


def read_file(path: Path) -> list[Document]:
    """Read one file into its articles. Raises IngestError naming the file and reason."""
    from core.ids import stable_id

    text = path.read_text(encoding="utf-8")
    return [Document(doc_id=stable_id(text), source=str(path), title=text.split("\n", 1)[0],
                     text=text, sources=[str(path)])]
