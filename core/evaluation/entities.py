"""Precision, recall and F1 of entity mentions on the development set.

Each text goes through ``annotate`` and ``resolve`` (so mentions resolution drops are
not counted). A predicted mention counts as correct only when its character span and
its type both match a hand-marked one exactly. The set (``core/resources/devsets/
entities.jsonl``: one ``{"id", "text", "entities": [{start, end, label}]}`` per
line) follows the extractor's conventions: titles are not part of a PERSON
("Foreign Minister [Hakan Fidan]"), demonyms are COUNTRY mentions ("[Iraqi]
officials"), sports clubs and news agencies are ORGANIZATIONs, "the" is left out.

Usage: ``python -m core.evaluation.entities [--backend rules] [--backend spacy:NAME]``;
without ``--backend`` every available backend is scored (rules, plus each installed
spaCy pipeline).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from core.errors import ConfigError
from core.extract_entities import annotate
from core.ids import stable_id
from core.model import ENTITY_TYPES, Document
from core.resolve import resolve

DEVSET = Path(__file__).resolve().parent.parent / "resources" / "devsets" / "entities.jsonl"


def load_devset(path: Path = DEVSET) -> list[dict]:
    """The hand-marked texts; raises ConfigError naming the file if it is malformed."""
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read development set: {exc}", path) from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text = item["text"]
            for ent in item["entities"]:
                if ent["label"] not in ENTITY_TYPES or not 0 <= ent["start"] < ent["end"] <= len(
                        text):
                    raise ValueError(f"bad entity {ent}")
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"line {n}: {exc}", path) from exc
        items.append(item)
    return items


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "fn": fn}


def split_of(item_id: str | None) -> str:
    """The split a text belongs to: its id up to the last '-' ("dev2-007" -> "dev2"),
    "dev" for the first batch ("dev001")."""
    if not item_id:
        return "dev"
    return item_id.rsplit("-", 1)[0] if "-" in item_id else "dev"


def evaluate(backend: str = "rules", path: Path = DEVSET, split: str | None = None) -> dict:
    """Score one backend: per-type and overall precision/recall/F1, plus the errors.

    ``split`` keeps only the texts of one split (see :func:`split_of`)."""
    items = load_devset(path)
    if split is not None:
        items = [it for it in items if split_of(it.get("id")) == split]
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    errors = []
    for item in items:
        text = item["text"]
        doc = Document(doc_id=stable_id(item.get("id"), text), source=str(path), title="",
                       text=text)
        gold = {(e["start"], e["end"], e["label"]) for e in item["entities"]}
        annotated = annotate(doc, backend)
        resolve([annotated])  # what reaches the dataset: unresolvable mentions are dropped
        pred = {(m.start, m.end, m.label) for m in annotated.mentions}
        for *_, label in gold & pred:
            tp[label] += 1
        for s, e, label in sorted(pred - gold):
            fp[label] += 1
            errors.append({"id": item.get("id"), "kind": "fp", "label": label,
                           "text": text[s:e]})
        for s, e, label in sorted(gold - pred):
            fn[label] += 1
            errors.append({"id": item.get("id"), "kind": "fn", "label": label,
                           "text": text[s:e]})
    per_type = {t: _prf(tp[t], fp[t], fn[t]) for t in ENTITY_TYPES}
    overall = _prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return {"backend": backend, "n_texts": len(items), "per_type": per_type,
            "overall": overall, "errors": errors}


def available_backends() -> list[str]:
    """'rules' plus every installed spaCy pipeline package."""
    backends = ["rules"]
    try:
        import spacy.util

        backends += [f"spacy:{name}" for name in sorted(spacy.util.get_installed_models())]
    except Exception:  # noqa: BLE001 - listing models is best effort
        pass
    return backends


def format_report(result: dict) -> str:
    lines = [f"backend {result['backend']} ({result['n_texts']} texts)",
             f"  {'type':<14}{'P':>7}{'R':>7}{'F1':>7}{'tp':>5}{'fp':>5}{'fn':>5}"]
    rows = [*result["per_type"].items(), ("ALL", result["overall"])]
    for name, s in rows:
        lines.append(f"  {name:<14}{s['precision']:>7.3f}{s['recall']:>7.3f}{s['f1']:>7.3f}"
                     f"{s['tp']:>5}{s['fp']:>5}{s['fn']:>5}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.evaluation.entities",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", action="append",
                        help="backend to score (repeatable); default: all available")
    parser.add_argument("--errors", action="store_true", help="list every wrong mention")
    parser.add_argument("--set", type=Path, default=DEVSET, help="JSONL set to score")
    parser.add_argument("--split", help="score only one split (id prefix: dev, dev2, ...)")
    parser.add_argument("--by-split", action="store_true",
                        help="also print a report for each split")
    args = parser.parse_args(argv)
    status = 0
    for backend in args.backend or available_backends():
        try:
            result = evaluate(backend, args.set, args.split)
            splits = sorted({split_of(it.get("id")) for it in load_devset(args.set)}) \
                if args.by_split and args.split is None else []
            per_split = [(name, evaluate(backend, args.set, name)) for name in splits]
        except ConfigError as exc:
            print(f"backend {backend}: {exc}", file=sys.stderr)
            status = 2
            continue
        print(format_report(result))
        for name, part in per_split:
            print(f"split {name}: " + format_report(part))
        if args.errors:
            for err in result["errors"]:
                print(f"    {err['kind']} {err['label']:<13} {err['text']!r}  ({err['id']})")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
