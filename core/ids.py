"""Deterministic ids: short hashes of content, the same on any machine."""

from __future__ import annotations

import hashlib


def stable_id(*parts: object, prefix: str = "", length: int = 16) -> str:
    """Hash the parts (joined unambiguously) into a short hex id."""
    payload = "\x1f".join("" if p is None else str(p) for p in parts)
    digest = hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()
    return f"{prefix}{digest[:length]}"
