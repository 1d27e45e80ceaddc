"""Curation: analysts' corrections kept as an append-only log, applied as an overlay.

The built frames are never edited. Every correction (merge, rename, split, delete
or relabel an entity; retype, reject or swap an event) is one JSON line appended to
``corrections.jsonl`` in the store folder, and ``apply(ds, entries)`` replays the
log over a freshly loaded Dataset on every load. Because entries name entities by
their (normalised) names, aliases and type rather than only by id, the same log
still lands after a rebuild that changed entity ids; events are named by their
content-hash event_id.

Appends are one ``write()`` of a whole line on an ``O_APPEND`` descriptor under an
exclusive ``flock``, so two sessions never interleave or lose each other's lines.
Undo and redo are entries too; the effective list is found by replaying the log.

One line per dashboard action (``ds`` = the curated view the analyst is looking at)::

    log = CorrectionLog(store_dir)
    log.merge(ds, [id_a, id_b], name="Hakan Fidan", author="ana")
    log.split_alias(ds, id_a, "Kalın", author="ana")
    log.reject_event(event_id, author="ana")
    log.undo(author="ana", mine=True); log.redo(author="ana")
    ds, notes = load_curated(store_dir)   # cache key: manifest_key(store) + log.version()
    log.table()                           # the history, newest first, with its status
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core import schemas
from core.errors import DyadError
from core.extract_events import PLOVER_TYPES
from core.graph import edges_frame
from core.ids import stable_id
from core.model import ENTITY_TYPES
from core.normalize import norm_key
from core.pipeline import Dataset
from core.schemas import ENT, EV, MEN

try:  # POSIX; elsewhere appends still use O_APPEND, only without the lock
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOG_NAME = "corrections.jsonl"

# Action names, as written in the log.
MERGE = "merge_entities"
RENAME = "rename_entity"
ADD_ALIAS = "add_alias"
REMOVE_ALIAS = "remove_alias"
SET_TYPE = "set_entity_type"
SET_COUNTRY = "set_entity_country"
SPLIT_ALIAS = "split_alias"
NOT_ENTITY = "not_an_entity"
SET_EVENT_TYPE = "set_event_type"
SET_EVENT_MODE = "set_event_mode"
REJECT_EVENT = "reject_event"
SWAP_ACTOR_TARGET = "swap_actor_target"
UNDO = "undo"
REDO = "redo"

ENTITY_ACTIONS = (
    MERGE, RENAME, ADD_ALIAS, REMOVE_ALIAS, SET_TYPE, SET_COUNTRY, SPLIT_ALIAS, NOT_ENTITY
)
EVENT_ACTIONS = (SET_EVENT_TYPE, SET_EVENT_MODE, REJECT_EVENT, SWAP_ACTOR_TARGET)
ACTIONS = ENTITY_ACTIONS + EVENT_ACTIONS + (UNDO, REDO)

_ID = re.compile(r"^[0-9a-f]{8,64}$")
_ISO3 = re.compile(schemas.ISO3)
_EVENT_TYPE = re.compile(r"^[A-Z][A-Z_]{1,40}$")  # PLOVER names: CONSULT, ACCUSE, ...
_MAX_TEXT = 300


class CurationError(DyadError):
    """A correction cannot be recorded (bad payload, unknown entity, unreadable import)."""


# --------------------------------------------------------------------------- names


def normalise_name(text: str) -> str:
    """The matching key of a name, the same one entity resolution uses (core.normalize):
    "Kalın", "KALIN" and "kalin" share a key; so do "Al-Sisi" and "al Sisi".
    """
    return norm_key(text)


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Correction:
    """One line of the log."""

    id: str
    time: str  # UTC, ISO 8601
    author: str
    action: str
    payload: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_line(self) -> bytes:
        return (json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True) + "\n").encode()


@dataclass(frozen=True)
class Problem:
    """A log line that was skipped: where it is and why."""

    line: int  # 1-based
    reason: str

    def __str__(self) -> str:
        return f"{LOG_NAME} line {self.line}: {self.reason}"


def _is_text(v: Any) -> bool:
    return isinstance(v, str) and 0 < len(v.strip()) <= _MAX_TEXT


def _is_ref(v: Any) -> bool:
    return (
        isinstance(v, dict)
        and _is_text(v.get("name"))
        and v.get("type") in ENTITY_TYPES
        and isinstance(v.get("aliases", []), list)
        and all(isinstance(a, str) for a in v.get("aliases", []))
        and (v.get("entity_id") is None or isinstance(v.get("entity_id"), str))
    )


def _is_id(v: Any) -> bool:
    return isinstance(v, str) and bool(_ID.match(v))


# Required payload keys per action and the test each value must pass.
_PAYLOAD: dict[str, dict[str, Callable[[Any], bool]]] = {
    MERGE: {
        "into": _is_ref,
        "others": lambda v: isinstance(v, list) and len(v) > 0 and all(map(_is_ref, v)),
        "name": _is_text,
    },
    RENAME: {"entity": _is_ref, "name": _is_text},
    ADD_ALIAS: {"entity": _is_ref, "alias": _is_text},
    REMOVE_ALIAS: {"entity": _is_ref, "alias": _is_text},
    SET_TYPE: {"entity": _is_ref, "type": lambda v: v in ENTITY_TYPES},
    SET_COUNTRY: {
        "entity": _is_ref,
        "country": lambda v: v is None or (isinstance(v, str) and bool(_ISO3.match(v))),
    },
    SPLIT_ALIAS: {"entity": _is_ref, "alias": _is_text},
    NOT_ENTITY: {"entity": _is_ref},
    SET_EVENT_TYPE: {
        "event_id": _is_text,
        "type": lambda v: isinstance(v, str) and bool(_EVENT_TYPE.match(v)),
    },
    SET_EVENT_MODE: {"event_id": _is_text, "mode": lambda v: v is None or _is_text(v)},
    REJECT_EVENT: {"event_id": _is_text},
    SWAP_ACTOR_TARGET: {"event_id": _is_text},
    UNDO: {"target": _is_id},
    REDO: {"target": _is_id},
}
_OPTIONAL: dict[str, dict[str, Callable[[Any], bool]]] = {
    SPLIT_ALIAS: {"name": lambda v: v is None or _is_text(v)},
}


def _check_entry(obj: Any) -> str | None:
    """Why a decoded log line is not a valid entry, or None if it is."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    if not _is_id(obj.get("id")):
        return "id missing or not a hex id"
    if not isinstance(obj.get("time"), str):
        return "time missing"
    try:
        datetime.fromisoformat(obj["time"])
    except ValueError:
        return f"time {obj['time']!r} is not ISO 8601"
    if not isinstance(obj.get("author"), str):
        return "author missing"
    action = obj.get("action")
    if action not in _PAYLOAD:
        return f"unknown action {action!r}"
    payload = obj.get("payload")
    if not isinstance(payload, dict):
        return "payload missing"
    return _check_payload(action, payload)


def _check_payload(action: str, payload: dict[str, Any]) -> str | None:
    for key, ok in _PAYLOAD[action].items():
        if key not in payload:
            return f"{action}: payload lacks {key!r}"
        if not ok(payload[key]):
            return f"{action}: {key}={payload[key]!r} is not valid"
    for key, ok in _OPTIONAL.get(action, {}).items():
        if key in payload and not ok(payload[key]):
            return f"{action}: {key}={payload[key]!r} is not valid"
    return None


def _parse_lines(data: bytes) -> tuple[list[Correction], list[Problem]]:
    """Valid entries of a JSON-lines blob, plus a Problem for every line skipped."""
    entries: list[Correction] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    lines = data.split(b"\n")
    last = len(lines) - 1
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        cut = i == last  # no line end after it: a write that never finished
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(Problem(i + 1, "not UTF-8 text"))
            continue
        except ValueError:
            reason = "half-written line (cut off before its end)" if cut else "not JSON"
            problems.append(Problem(i + 1, reason))
            continue
        reason = _check_entry(obj)
        if reason:
            problems.append(Problem(i + 1, reason))
            continue
        if obj["id"] in seen:
            problems.append(Problem(i + 1, f"duplicate id {obj['id']}; skipped"))
            continue
        seen.add(obj["id"])
        entries.append(Correction(**{k: obj[k] for k in ("id", "time", "author", "action",
                                                          "payload")}))
    return entries, problems


# --------------------------------------------------------------------------- history


@dataclass
class History:
    """The log replayed: which actions are in force, what undo/redo would act on."""

    active: list[Correction] = field(default_factory=list)  # in log order
    undo_stack: list[Correction] = field(default_factory=list)  # most recent last
    redo_stack: list[Correction] = field(default_factory=list)  # most recently undone last
    notes: list[str] = field(default_factory=list)


def replay(entries: Iterable[Correction]) -> History:
    """Work out the effective actions: an undo cancels its target, a redo restores it.

    A new action clears the redo stack (as in any editor); an explicit redo entry of
    an undone action still applies, so a redo shared from another instance lands.
    """
    actions: dict[str, Correction] = {}
    active: set[str] = set()
    undo_stack: list[str] = []
    redo_stack: list[str] = []
    notes: list[str] = []
    for e in entries:
        target = e.payload.get("target") if e.action in (UNDO, REDO) else None
        if e.action == UNDO:
            if target in active:
                active.discard(target)
                undo_stack.remove(target)
                redo_stack.append(target)
            else:
                notes.append(f"undo {e.id[:8]}: {str(target)[:8]} is not in force; ignored")
        elif e.action == REDO:
            if target in actions and target not in active:
                active.add(target)
                undo_stack.append(target)
                if target in redo_stack:
                    redo_stack.remove(target)
            else:
                notes.append(f"redo {e.id[:8]}: {str(target)[:8]} is not undone; ignored")
        else:
            actions[e.id] = e
            active.add(e.id)
            undo_stack.append(e.id)
            redo_stack.clear()
    return History(
        active=[a for a in actions.values() if a.id in active],
        undo_stack=[actions[i] for i in undo_stack],
        redo_stack=[actions[i] for i in redo_stack],
        notes=notes,
    )


def effective(entries: Iterable[Correction]) -> list[Correction]:
    """The actions in force after replaying undo and redo, in log order."""
    return replay(entries).active


# --------------------------------------------------------------------------- the log


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@contextmanager
def _flock(fd: int, kind: int) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover
        yield
        return
    fcntl.flock(fd, kind)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _read_fd(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    chunks, pos = [], 0
    while pos < size:
        chunk = os.pread(fd, size - pos, pos)
        if not chunk:
            break
        chunks.append(chunk)
        pos += len(chunk)
    return b"".join(chunks)


def _tidy(text: str | None) -> str:
    return " ".join(str(text or "").split())  # one line, single spaces: as names are shown


def describe(entry: Correction) -> str:
    """One line for people: 'merge_entities: H. Fidan -> Hakan Fidan'."""
    p = entry.payload
    if entry.action == MERGE:
        names = [r["name"] for r in [p["into"], *p["others"]]]
        return f"merge {', '.join(names)} -> {p['name']}"
    if entry.action in (UNDO, REDO):
        return f"{entry.action} {p['target'][:8]}"
    subject = p["entity"]["name"] if "entity" in p else p.get("event_id", "")
    rest = {k: v for k, v in p.items() if k not in ("entity", "event_id")}
    detail = ", ".join(f"{k}={v}" for k, v in rest.items())
    return f"{entry.action.replace('_', ' ')} {subject}" + (f": {detail}" if detail else "")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
    os.fsync(fd)


def entity_ref(ds: Dataset, entity_id: str) -> dict[str, Any]:
    """How a log entry names an entity: id plus the names and type that outlive a rebuild."""
    rows = ds.entities[ds.entities[ENT.entity_id] == entity_id]
    if rows.empty:
        raise CurationError(f"no entity with id {entity_id!r} in the current view")
    row = rows.iloc[0]
    return {
        "entity_id": entity_id,
        "name": str(row[ENT.name]),
        "type": str(row[ENT.type]),
        "aliases": [str(a) for a in row[ENT.aliases]],
    }


class CorrectionLog:
    """The append-only corrections log of one store folder."""

    def __init__(self, store_dir: str | Path) -> None:
        self.store_dir = Path(store_dir)
        self.path = self.store_dir / LOG_NAME

    # ---- low level

    def _open_for_append(self) -> int:
        if not self.store_dir.is_dir():
            raise CurationError("store folder does not exist", self.store_dir)
        try:
            return os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CurationError(f"cannot open the corrections log: {exc}", self.path) from exc

    @contextmanager
    def _locked_for_append(self) -> Iterator[int]:
        """An append descriptor on the log, held under LOCK_EX until the block ends.

        The log lives at the top of the store folder, beside its versions, so a
        rebuild (which only switches ``current``) never moves it.
        """
        fd = self._open_for_append()
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # closing also releases the lock

    def _write_locked(self, fd: int, data: bytes) -> None:
        # Caller holds LOCK_EX. A line left without its end by a crashed writer must
        # not swallow ours: start on a fresh line.
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        _write_all(fd, data)  # O_APPEND: always at the end, one call for the line

    def append(self, action: str, payload: dict[str, Any], author: str = "") -> Correction:
        """Record one correction and return it; a bad payload raises CurationError."""
        if action not in _PAYLOAD:
            raise CurationError(f"unknown action {action!r}")
        reason = _check_payload(action, payload)
        if reason:
            raise CurationError(reason)
        entry = Correction(uuid.uuid4().hex, _now(), str(author), action, dict(payload))
        with self._locked_for_append() as fd:
            self._write_locked(fd, entry.to_line())
        return entry

    def read_bytes(self) -> bytes:
        try:
            with open(self.path, "rb") as f, _flock(f.fileno(), fcntl.LOCK_SH if fcntl else 0):
                return f.read()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise CurationError(f"cannot read the corrections log: {exc}", self.path) from exc

    # ---- reading

    def entries(self) -> tuple[list[Correction], list[Problem]]:
        """Every valid entry in log order, and the lines skipped (line number + reason)."""
        return _parse_lines(self.read_bytes())

    def history(self) -> History:
        return replay(self.entries()[0])

    def effective(self) -> list[Correction]:
        """The corrections in force (undone ones left out), in log order."""
        return self.history().active

    def table(self) -> pd.DataFrame:
        """The log for display: one row per entry, newest first, with its status."""
        entries = self.entries()[0]
        hist = replay(entries)
        active = {a.id for a in hist.active}
        rows = [
            {"id": e.id, "time": e.time, "author": e.author, "action": e.action,
             "summary": describe(e),
             "status": e.action if e.action in (UNDO, REDO)
             else ("in force" if e.id in active else "undone")}
            for e in reversed(entries)
        ]
        return pd.DataFrame(rows, columns=["id", "time", "author", "action", "summary", "status"])

    def version(self) -> str:
        """Changes whenever a line is appended (appends only grow the file): a cache key."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return "empty"
        key = f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}".encode()
        return hashlib.blake2b(key, digest_size=8).hexdigest()

    # ---- undo / redo

    def undo(
        self, author: str = "", entry_id: str | None = None, mine: bool = False
    ) -> Correction | None:
        """Cancel the latest correction in force (``mine``: the latest by ``author``),
        or the one with ``entry_id``; None when there is nothing to undo."""
        hist = self.history()
        if entry_id is None:
            stack = [e for e in hist.undo_stack if not mine or e.author == author]
            if not stack:
                return None
            entry_id = stack[-1].id
        elif entry_id not in {a.id for a in hist.active}:
            raise CurationError(f"correction {entry_id!r} is not in force; nothing to undo")
        return self.append(UNDO, {"target": entry_id}, author)

    def redo(self, author: str = "", mine: bool = False) -> Correction | None:
        """Restore the correction undone most recently (``mine``: made by ``author``);
        None when there is nothing to redo."""
        stack = [e for e in self.history().redo_stack if not mine or e.author == author]
        if not stack:
            return None
        return self.append(REDO, {"target": stack[-1].id}, author)

    # ---- sharing

    def export(self) -> bytes:
        """The valid entries as JSON lines (undo/redo included), for another instance."""
        return b"".join(e.to_line() for e in self.entries()[0])

    def import_(self, data: bytes | str) -> int:
        """Append the entries of an export whose ids are new here; return how many.

        All or nothing: an export with a bad line raises CurationError naming it.
        """
        if isinstance(data, str):
            data = data.encode("utf-8")
        incoming, problems = _parse_lines(data)
        problems = [p for p in problems if not p.reason.startswith("duplicate id")]
        if problems:
            listed = "; ".join(f"line {p.line}: {p.reason}" for p in problems[:5])
            raise CurationError(f"import refused, {len(problems)} bad line(s): {listed}")
        with self._locked_for_append() as fd:
            # Read under the same lock so a concurrent import cannot add the same ids.
            known = {e.id for e in _parse_lines(_read_fd(fd))[0]}
            new = [e for e in incoming if e.id not in known]
            if new:
                self._write_locked(fd, b"".join(e.to_line() for e in new))
        return len(new)

    # ---- one call per dashboard action (ds = the curated view the analyst sees)

    def merge(
        self, ds: Dataset, entity_ids: list[str], name: str | None = None, author: str = ""
    ) -> Correction:
        """Merge entities into one named ``name`` (default: the first one's name)."""
        ids = list(dict.fromkeys(entity_ids))
        if len(ids) < 2:
            raise CurationError("choose at least two entities to merge")
        refs = [entity_ref(ds, i) for i in ids]
        name = _tidy(name or refs[0]["name"])
        # The entity already called `name` survives (keeps its id); else the first.
        key = normalise_name(name)
        into = next((r for r in refs if normalise_name(r["name"]) == key), refs[0])
        others = [r for r in refs if r is not into]
        return self.append(MERGE, {"into": into, "others": others, "name": name}, author)

    def rename(self, ds: Dataset, entity_id: str, name: str, author: str = "") -> Correction:
        return self.append(
            RENAME, {"entity": entity_ref(ds, entity_id), "name": _tidy(name)}, author
        )

    def add_alias(self, ds: Dataset, entity_id: str, alias: str, author: str = "") -> Correction:
        return self.append(
            ADD_ALIAS, {"entity": entity_ref(ds, entity_id), "alias": _tidy(alias)}, author
        )

    def remove_alias(
        self, ds: Dataset, entity_id: str, alias: str, author: str = ""
    ) -> Correction:
        return self.append(
            REMOVE_ALIAS, {"entity": entity_ref(ds, entity_id), "alias": alias}, author
        )

    def set_type(self, ds: Dataset, entity_id: str, type_: str, author: str = "") -> Correction:
        return self.append(SET_TYPE, {"entity": entity_ref(ds, entity_id), "type": type_}, author)

    def set_country(
        self, ds: Dataset, entity_id: str, country: str | None, author: str = ""
    ) -> Correction:
        country = country.strip().upper() if country else None
        return self.append(
            SET_COUNTRY, {"entity": entity_ref(ds, entity_id), "country": country}, author
        )

    def split_alias(
        self, ds: Dataset, entity_id: str, alias: str, name: str | None = None, author: str = ""
    ) -> Correction:
        """Move the mentions written ``alias`` to an entity of their own (named ``name``)."""
        payload = {"entity": entity_ref(ds, entity_id), "alias": _tidy(alias)}
        if _tidy(name):
            payload["name"] = _tidy(name)
        return self.append(SPLIT_ALIAS, payload, author)

    def not_entity(self, ds: Dataset, entity_id: str, author: str = "") -> Correction:
        return self.append(NOT_ENTITY, {"entity": entity_ref(ds, entity_id)}, author)

    def set_event_type(self, event_id: str, type_: str, author: str = "") -> Correction:
        if type_ not in PLOVER_TYPES:
            raise CurationError(f"{type_!r} is not a PLOVER event type ({', '.join(PLOVER_TYPES)})")
        return self.append(SET_EVENT_TYPE, {"event_id": event_id, "type": type_}, author)

    def set_event_mode(self, event_id: str, mode: str | None, author: str = "") -> Correction:
        return self.append(
            SET_EVENT_MODE, {"event_id": event_id, "mode": _tidy(mode) or None}, author
        )

    def reject_event(self, event_id: str, author: str = "") -> Correction:
        return self.append(REJECT_EVENT, {"event_id": event_id}, author)

    def swap_actor_target(self, event_id: str, author: str = "") -> Correction:
        return self.append(SWAP_ACTOR_TARGET, {"event_id": event_id}, author)


# --------------------------------------------------------------------------- overlay


class _NotApplicable(Exception):
    """An entry that cannot act on this dataset (its entity or event is gone)."""


def _clean(v: Any) -> Any:
    return None if v is None or (not isinstance(v, list) and pd.isna(v)) else v


class _State:
    """The frames being corrected: entities as row dicts, mentions and events as frames."""

    def __init__(self, ds: Dataset) -> None:
        self.entities: dict[str, dict[str, Any]] = {}
        for row in ds.entities.to_dict("records"):
            row = {k: _clean(v) for k, v in row.items()}
            row[ENT.aliases] = list(row[ENT.aliases] or [])
            row[ENT.roles] = list(row[ENT.roles] or [])
            self.entities[row[ENT.entity_id]] = row
        self.mentions = ds.mentions.copy()
        self.events = ds.events.set_index(EV.event_id, drop=False)
        self.touched: set[str] = set()  # entities whose counts must be recounted
        self.rejected: set[str] = set()  # dropped at the end: one drop, not one per entry
        # Normalised name/alias -> entity ids, kept in step by reindex(). Built only
        # when a reference's id is gone (after a rebuild): most loads never need it.
        self._indexed = False
        self._keys: dict[str, tuple[str, frozenset[str]]] = {}
        self._by_name: dict[str, set[str]] = defaultdict(set)
        self._by_alias: dict[str, set[str]] = defaultdict(set)

    def reindex(self, eid: str) -> None:
        """Update the name index after entity ``eid`` was renamed, re-aliased or removed."""
        if not self._indexed:
            return
        old = self._keys.pop(eid, None)
        if old:
            self._by_name[old[0]].discard(eid)
            for a in old[1]:
                self._by_alias[a].discard(eid)
        row = self.entities.get(eid)
        if row is None:
            return
        name = normalise_name(row[ENT.name])
        aliases = frozenset(normalise_name(a) for a in row[ENT.aliases]) - {""}
        self._keys[eid] = (name, aliases)
        self._by_name[name].add(eid)
        for a in aliases:
            self._by_alias[a].add(eid)

    # -- lookups

    def resolve(self, ref: dict[str, Any]) -> str:
        """The entity a reference names now: by id, else by normalised name/aliases + type."""
        eid = ref.get("entity_id")
        if eid in self.entities:
            return eid
        if not self._indexed:
            self._indexed = True
            for i in self.entities:
                self.reindex(i)
        name = normalise_name(ref["name"])
        ref_aliases = {normalise_name(a) for a in ref.get("aliases", [])} - {""}
        by_alias: set[str] = set()
        for a in ref_aliases:
            by_alias |= self._by_name.get(a, set()) | self._by_alias.get(a, set())
        # From the surest match to the loosest: same name, name among the aliases,
        # a shared alias. Without the same type only the first two, and only if unique.
        levels = [self._by_name.get(name, set()), self._by_alias.get(name, set()), by_alias]
        for same_type in (True, False):
            for level in levels[: 3 if same_type else 2]:
                found = [i for i in level
                         if not same_type or self.entities[i][ENT.type] == ref["type"]]
                if len(found) == 1 or (found and same_type):
                    # Several equally good: the most mentioned, then the smallest id.
                    return min(found, key=lambda i: (-self.entities[i][ENT.n_mentions], i))
        raise _NotApplicable(f"entity {ref['name']!r} ({ref['type']}) no longer exists")

    def event(self, event_id: str) -> str:
        if event_id not in self.events.index or event_id in self.rejected:
            raise _NotApplicable(
                f"event {event_id} is not in the data (rejected, dropped with its actor "
                "or gone in a rebuild)"
            )
        return event_id

    # -- edits shared by several actions

    def move_entity(self, old: set[str], new: str | None) -> None:
        """Point mentions/events of ``old`` ids at ``new``; None removes them."""
        men_mask = self.mentions[MEN.entity_id].isin(old)
        actor = self.events[EV.actor_id].isin(old)
        target = self.events[EV.target_id].isin(old)
        if new is None:
            self.mentions = self.mentions[~men_mask]
            self.events.loc[target, EV.target_id] = None
            self.events = self.events[~actor]
        else:
            self.mentions.loc[men_mask, MEN.entity_id] = new
            self.events.loc[actor, EV.actor_id] = new
            self.events.loc[target, EV.target_id] = new
        for i in old:
            self.entities.pop(i, None)
            self.reindex(i)
            self.touched.discard(i)
        if new is not None:
            self.touched.add(new)
            self.reindex(new)


def _add_alias(row: dict[str, Any], alias: str) -> None:
    if alias != row[ENT.name] and alias not in row[ENT.aliases]:
        row[ENT.aliases].append(alias)


def _do_merge(st: _State, p: dict[str, Any]) -> str | None:
    found: list[str] = []
    missing: list[str] = []
    for ref in [p["into"], *p["others"]]:
        try:
            i = st.resolve(ref)
        except _NotApplicable:
            missing.append(ref["name"])
            continue
        if i not in found:
            found.append(i)
    if not found:
        raise _NotApplicable(f"none of {', '.join(repr(m) for m in missing)} exists any more")
    # The chosen survivor if it still exists, else the first that does.
    into, others = found[0], found[1:]
    row = st.entities[into]
    old_name = row[ENT.name]
    for i in others:
        other = st.entities[i]
        for a in [other[ENT.name], *other[ENT.aliases]]:
            _add_alias(row, a)
        row[ENT.roles] += [r for r in other[ENT.roles] if r not in row[ENT.roles]]
        row[ENT.country] = row[ENT.country] or other[ENT.country]
    row[ENT.name] = p["name"]
    _add_alias(row, old_name)
    row[ENT.aliases] = [a for a in row[ENT.aliases] if a != p["name"]]
    st.move_entity(set(others), into)
    st.reindex(into)
    st.touched.add(into)
    if missing:
        return f"merged without {', '.join(repr(m) for m in missing)} (no longer exist)"
    return None


def _do_rename(st: _State, p: dict[str, Any]) -> None:
    eid = st.resolve(p["entity"])
    row = st.entities[eid]
    old = row[ENT.name]
    row[ENT.name] = p["name"]
    _add_alias(row, old)  # the old name stays findable and keeps matching after a rebuild
    row[ENT.aliases] = [a for a in row[ENT.aliases] if a != p["name"]]
    st.reindex(eid)


def _do_add_alias(st: _State, p: dict[str, Any]) -> None:
    eid = st.resolve(p["entity"])
    _add_alias(st.entities[eid], p["alias"])
    st.reindex(eid)


def _do_remove_alias(st: _State, p: dict[str, Any]) -> None:
    eid = st.resolve(p["entity"])
    row = st.entities[eid]
    if p["alias"] not in row[ENT.aliases]:
        raise _NotApplicable(f"{row[ENT.name]!r} has no alias {p['alias']!r}")
    row[ENT.aliases].remove(p["alias"])
    st.reindex(eid)


def _do_set_type(st: _State, p: dict[str, Any]) -> None:
    eid = st.resolve(p["entity"])
    st.entities[eid][ENT.type] = p["type"]
    # Keep mention labels in step so filters by type see the same thing everywhere.
    st.mentions.loc[st.mentions[MEN.entity_id] == eid, MEN.label] = p["type"]


def _do_set_country(st: _State, p: dict[str, Any]) -> None:
    st.entities[st.resolve(p["entity"])][ENT.country] = p["country"]


def _do_split_alias(st: _State, p: dict[str, Any]) -> str | None:
    eid = st.resolve(p["entity"])
    row = st.entities[eid]
    key = normalise_name(p["alias"])
    if normalise_name(row[ENT.name]) == key:
        raise _NotApplicable(f"{p['alias']!r} is the name of the entity itself; rename it first")
    men = st.mentions
    own = men[MEN.entity_id] == eid
    moving = own & men[MEN.text].map(normalise_name).eq(key)
    alias_forms = [a for a in row[ENT.aliases] if normalise_name(a) == key]
    if not moving.any() and not alias_forms:
        raise _NotApplicable(f"{row[ENT.name]!r} has no mention or alias {p['alias']!r}")
    new_name = p.get("name") or p["alias"]
    # An entity already called so (same type) takes the mentions; else a new one.
    new_key = normalise_name(new_name)
    target = next(
        (i for i, r in st.entities.items()
         if i != eid and r[ENT.type] == row[ENT.type] and normalise_name(r[ENT.name]) == new_key),
        None,
    )
    if target is None:
        target = _split_id(new_name, row[ENT.type], st.entities)
        st.entities[target] = {
            ENT.entity_id: target, ENT.name: new_name, ENT.type: row[ENT.type],
            ENT.country: row[ENT.country], ENT.aliases: [], ENT.roles: [],
            ENT.n_mentions: 0, ENT.n_documents: 0,
        }
    for a in alias_forms:
        _add_alias(st.entities[target], a)
    row[ENT.aliases] = [a for a in row[ENT.aliases] if normalise_name(a) != key]
    # Events follow their sentence: if the old entity is no longer mentioned where
    # the event's sentence is but the split-off one is, the event was about it.
    stay = set(zip(men.loc[own & ~moving, MEN.doc_id], men.loc[own & ~moving, MEN.sentence_id],
                   strict=True))
    moved = set(zip(men.loc[moving, MEN.doc_id], men.loc[moving, MEN.sentence_id], strict=True))
    st.mentions.loc[moving, MEN.entity_id] = target
    ev = st.events
    where = [(d, s) in moved and (d, s) not in stay
             for d, s in zip(ev[EV.doc_id], ev[EV.sentence_id], strict=True)]
    where_s = pd.Series(where, index=ev.index, dtype=bool)
    for col in (EV.actor_id, EV.target_id):
        ev.loc[where_s & (ev[col] == eid), col] = target
    st.touched.update({eid, target})
    st.reindex(eid)
    st.reindex(target)
    if not (own & ~moving).any():
        return f"{row[ENT.name]!r} has no mentions left after the split"
    return None


def _split_id(name: str, type_: str, taken: dict[str, Any]) -> str:
    eid = stable_id("split", normalise_name(name), type_)
    n = 1
    while eid in taken:
        n += 1
        eid = stable_id("split", normalise_name(name), type_, n)
    return eid


def _do_not_entity(st: _State, p: dict[str, Any]) -> None:
    st.move_entity({st.resolve(p["entity"])}, None)


def _do_set_event_type(st: _State, p: dict[str, Any]) -> None:
    st.events.loc[st.event(p["event_id"]), EV.type] = p["type"]


def _do_set_event_mode(st: _State, p: dict[str, Any]) -> None:
    st.events.loc[st.event(p["event_id"]), EV.mode] = p["mode"]


def _do_reject_event(st: _State, p: dict[str, Any]) -> None:
    st.rejected.add(st.event(p["event_id"]))


def _do_swap(st: _State, p: dict[str, Any]) -> None:
    eid = st.event(p["event_id"])
    actor, target = st.events.at[eid, EV.actor_id], _clean(st.events.at[eid, EV.target_id])
    if target is None:
        raise _NotApplicable(f"event {eid} has no target to swap with its actor")
    st.events.loc[eid, [EV.actor_id, EV.target_id]] = [target, actor]


_HANDLERS: dict[str, Callable[[_State, dict[str, Any]], str | None]] = {
    MERGE: _do_merge,
    RENAME: _do_rename,
    ADD_ALIAS: _do_add_alias,
    REMOVE_ALIAS: _do_remove_alias,
    SET_TYPE: _do_set_type,
    SET_COUNTRY: _do_set_country,
    SPLIT_ALIAS: _do_split_alias,
    NOT_ENTITY: _do_not_entity,
    SET_EVENT_TYPE: _do_set_event_type,
    SET_EVENT_MODE: _do_set_event_mode,
    REJECT_EVENT: _do_reject_event,
    SWAP_ACTOR_TARGET: _do_swap,
}


def _recount(st: _State) -> None:
    if not st.touched:
        return
    men = st.mentions[st.mentions[MEN.entity_id].isin(st.touched)]
    n_men = men.groupby(MEN.entity_id).size()
    n_doc = men.groupby(MEN.entity_id)[MEN.doc_id].nunique()
    for eid in st.touched:
        if eid in st.entities:
            st.entities[eid][ENT.n_mentions] = int(n_men.get(eid, 0))
            st.entities[eid][ENT.n_documents] = int(n_doc.get(eid, 0))


def recompute_edges(
    documents: pd.DataFrame, mentions: pd.DataFrame, events: pd.DataFrame
) -> pd.DataFrame:
    """Edges of corrected frames, by the pipeline's own rule (core.graph.edges_frame)."""
    del documents  # edges come from the mentions and events alone
    return edges_frame(events, mentions)


def apply(ds: Dataset, entries: Iterable[Correction]) -> tuple[Dataset, list[str]]:
    """The dataset as corrected by the log (undo/redo replayed); ``ds`` is left unchanged.

    Returns the corrected Dataset (every frame validated) and a note for each entry
    that did not apply (its entity or event no longer exists) or applied only in part.
    """
    hist = replay(entries)
    notes = list(hist.notes)
    if not hist.active:
        return Dataset(**{k: v.copy() for k, v in ds.frames().items()},
                       errors=list(ds.errors), manifest=dict(ds.manifest)), notes
    st = _State(ds)
    applied = 0
    for e in hist.active:
        where = f"{e.action} {e.id[:8]} by {e.author or '?'} at {e.time}"
        try:
            note = _HANDLERS[e.action](st, e.payload)
        except _NotApplicable as exc:
            notes.append(f"{where}: not applicable: {exc}")
            continue
        applied += 1
        if note:
            notes.append(f"{where}: {note}")
    _recount(st)
    events = st.events[~st.events.index.isin(st.rejected)].reset_index(drop=True)
    entities = schemas.to_frame("entities", list(st.entities.values()))
    mentions = schemas.validate("mentions", st.mentions.reset_index(drop=True))
    out = Dataset(
        documents=ds.documents.copy(),
        mentions=mentions,
        entities=entities,
        events=schemas.validate("events", events),
        edges=recompute_edges(ds.documents, mentions, events),
        errors=list(ds.errors),
        manifest=dict(ds.manifest),
    )
    out.manifest["counts"] = out.counts()
    out.manifest["curation"] = {"in_force": len(hist.active), "applied": applied,
                                "not_applicable": len(hist.active) - applied}
    return out, notes


def load_curated(store_dir: str | Path) -> tuple[Dataset, list[str]]:
    """Load a store with its corrections applied; notes list skipped lines and misses."""
    from core.store import load_dataset

    ds = load_dataset(store_dir)
    entries, problems = CorrectionLog(store_dir).entries()
    cur, notes = apply(ds, entries)
    return cur, [str(p) for p in problems] + notes
