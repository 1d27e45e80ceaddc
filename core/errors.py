"""Errors meant for people: each names the file (when there is one) and the reason."""

from __future__ import annotations

from pathlib import Path


class DyadError(Exception):
    """Base class for every error Dyad raises on purpose."""

    def __init__(self, reason: str, path: str | Path | None = None) -> None:
        self.reason = reason
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {reason}" if self.path else reason)

    def to_record(self) -> dict[str, str | None]:
        """The error as it is kept in build.json and shown in the dashboard."""
        return {"file": self.path, "reason": self.reason, "kind": type(self).__name__}


class IngestError(DyadError):
    """A source file could not be read as articles."""


class ConfigError(DyadError):
    """A setting (backend name, resource file, option) is wrong."""


class StoreError(DyadError):
    """A store folder is missing, incomplete or does not match the schema."""


class SchemaError(DyadError):
    """A frame does not hold to the data contract."""
