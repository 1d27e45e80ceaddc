"""Salted password hashes for the dashboard's password gate.

A hash is one string, ``scrypt$n$r$p$salt$hash`` (salt and hash in URL-safe
base64), so the cost parameters travel with it and can be raised later without
breaking hashes already deployed. Put it in DYAD_PASSWORD_HASH (viewers) or
DYAD_EDITOR_PASSWORD_HASH (editors); never the password itself.

    python -m core.passwords          # prompts twice, prints the hash
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import os
import sys
from collections.abc import Callable, Sequence

from core.errors import ConfigError

SCHEME = "scrypt"
# ~16 MiB and ~50 ms per check: slow for a guesser, quick for a person.
DEFAULT_N, DEFAULT_R, DEFAULT_P = 2**14, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32
# A hash string comes from configuration: bound its cost so a typo (n=2**30)
# cannot make every login attempt eat gigabytes of memory.
MAX_N, MAX_R, MAX_P = 2**20, 32, 16
MIN_PASSWORD_CHARS = 8


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, size: int) -> bytes:
    # scrypt needs 128 * r * n bytes; allow twice that so OpenSSL does not refuse.
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * r * n + 1024 * 1024, dklen=size)


def hash_password(password: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R,
                  p: int = DEFAULT_P) -> str:
    """A new salted hash of ``password`` (a fresh random salt every call)."""
    if not password:
        raise ConfigError("the password is empty")
    _check_params(n, r, p)
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(password, salt, n, r, p, HASH_BYTES)
    return f"{SCHEME}${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def _check_params(n: int, r: int, p: int) -> None:
    if n < 2 or n & (n - 1) or n > MAX_N:
        raise ConfigError(f"scrypt n must be a power of two from 2 to {MAX_N}, not {n}")
    if not 1 <= r <= MAX_R or not 1 <= p <= MAX_P:
        raise ConfigError(f"scrypt r must be 1..{MAX_R} and p 1..{MAX_P}, not r={r} p={p}")


def parse_hash(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    """(n, r, p, salt, digest) of a hash string; ConfigError when it is malformed."""
    parts = encoded.strip().split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise ConfigError("a password hash must look like scrypt$n$r$p$salt$hash "
                          "(make one with `python -m core.passwords`)")
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, digest = _unb64(parts[4]), _unb64(parts[5])
    except (ValueError, binascii.Error):
        raise ConfigError("the password hash has a malformed number or base64 part") from None
    _check_params(n, r, p)
    if len(salt) < 8 or len(digest) < 16:
        raise ConfigError("the password hash has too short a salt or digest")
    return n, r, p, salt, digest


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches the hash string (compared in constant time).

    A malformed hash raises ConfigError rather than returning False, so a broken
    setting is reported to the person deploying instead of locking everyone out.
    """
    n, r, p, salt, digest = parse_hash(encoded)
    candidate = _scrypt(password, salt, n, r, p, len(digest))
    return hmac.compare_digest(candidate, digest)


def main(argv: Sequence[str] | None = None,
         ask: Callable[[str], str] = getpass.getpass) -> int:
    """Prompt for a password (twice) and print its hash for DYAD_PASSWORD_HASH."""
    del argv  # no options yet; kept so the signature matches other entry points
    first = ask("Password: ")
    if len(first) < MIN_PASSWORD_CHARS:
        print(f"error: use at least {MIN_PASSWORD_CHARS} characters", file=sys.stderr)
        return 2
    if ask("Again: ") != first:
        print("error: the two passwords differ", file=sys.stderr)
        return 2
    print(hash_password(first))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
