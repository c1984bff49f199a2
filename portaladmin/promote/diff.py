"""Compare two dataset snapshots (snapshot.py), part by part. Pure: no I/O, no Django.

Each part is a list of rows (key, source value, target value, status). A part without differences is "same"
and folded on the screen; the drift board and the "diff empty after promote" check use `is_empty`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from portaladmin.promote.snapshot import PART_LABELS, PARTS

SAME, CHANGED, ONLY_SOURCE, ONLY_TARGET = "same", "changed", "only_source", "only_target"
MISSING = object()  # a value one side does not have (distinct from None, which is a value)


@dataclass
class Row:
    key: str
    source: Any = MISSING
    target: Any = MISSING

    @property
    def status(self) -> str:
        if self.source is MISSING:
            return ONLY_TARGET
        if self.target is MISSING:
            return ONLY_SOURCE
        return SAME if canonical(self.source) == canonical(self.target) else CHANGED

    @property
    def source_text(self) -> str:
        return show(self.source)

    @property
    def target_text(self) -> str:
        return show(self.target)


@dataclass
class PartDiff:
    name: str
    rows: list[Row] = field(default_factory=list)

    @property
    def label(self) -> str:
        return PART_LABELS.get(self.name, self.name)

    @property
    def changes(self) -> list[Row]:
        return [row for row in self.rows if row.status != SAME]

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(row.status for row in self.rows)
        return {status: counts.get(status, 0) for status in (SAME, CHANGED, ONLY_SOURCE, ONLY_TARGET)}


def canonical(value: Any) -> str:
    """One text per value: dict key order and tuple/list do not make a difference."""
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


SECRET_KEYS = re.compile(r"pass(word)?|secret|token|api_?key|authorization|credential", re.IGNORECASE)
MASK = "••••••"


def masked(value: Any) -> Any:
    """What is shown of a value: secrets a portal might echo in a resource's datasource (passwords, tokens,
    header values) are masked, whatever the nesting. Comparison still uses the real values."""
    if isinstance(value, dict):
        if "name" in value and "value" in value and SECRET_KEYS.search(str(value.get("name"))):
            return {**value, "value": MASK}  # an HTTP header {"name": "Authorization", "value": …}
        return {k: (MASK if SECRET_KEYS.search(str(k)) and v not in (None, "") else masked(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


EMPTY_TEXT = "(empty)"  # an empty text is a value: shown apart from the "—" of a side that has none


def show(value: Any) -> str:
    if value is MISSING:
        return ""
    if isinstance(value, str):
        return value or EMPTY_TEXT
    return json.dumps(masked(value), sort_keys=True, indent=1, default=str, ensure_ascii=False)


def _keyed(source: dict, target: dict) -> list[Row]:
    keys = list(source) + [k for k in target if k not in source]
    return [Row(str(k), source.get(k, MISSING), target.get(k, MISSING)) for k in keys]


def _ordered(source: list, target: list) -> list[Row]:
    """Position by position: order matters (processors run in order; field configurations apply in order)."""
    rows = []
    for i in range(max(len(source), len(target))):
        one = source[i] if i < len(source) else MISSING
        other = target[i] if i < len(target) else MISSING
        name = (one if one is not MISSING else other) or {}
        rows.append(Row(f"#{i + 1} {name.get('type', '')}".strip(), one, other))
    return rows


def _counted(source: list, target: list) -> list[Row]:
    a, b = Counter(source), Counter(target)
    return [Row(k, a[k] if k in a else MISSING, b[k] if k in b else MISSING) for k in sorted(set(a) | set(b))]


def diff_part(name: str, source: dict, target: dict) -> PartDiff:
    if name == "dataset":
        rows = [Row("exists", source.get("exists", False), target.get("exists", False)),
                Row("dataset_id", source.get("dataset_id", ""),
                    target.get("dataset_id", "") if target.get("exists") else MISSING)]
    elif name == "metadata":
        flat = [{f"{t}.{f}": v for t, fields in snap.get("metadata", {}).items() for f, v in fields.items()}
                for snap in (source, target)]
        rows = _keyed(*flat)
    elif name == "resources":
        rows = _keyed(source.get("resources", {}), target.get("resources", {}))
    elif name in ("processors", "fields"):
        rows = _ordered(source.get(name, []), target.get(name, []))
    elif name == "schedules":
        rows = _counted(source.get("schedules", []), target.get("schedules", []))
    elif name == "security":
        rows = []
        one, other = source.get("security", {}), target.get("security", {})
        for key in ("is_restricted", "default_security"):
            rows.append(Row(key, one.get(key, MISSING), other.get(key, MISSING)))
        for kind in ("users", "groups"):
            prefix = "user" if kind == "users" else "group"
            rows.extend(Row(f"{prefix} {row.key}", row.source, row.target)
                        for row in _keyed(one.get(kind, {}), other.get(kind, {})))
    elif name == "publication":
        rows = [Row("is_published", source.get("publication", {}).get("is_published", MISSING),
                    target.get("publication", {}).get("is_published", MISSING))]
    else:
        raise ValueError(f"Unknown part {name!r}")
    return PartDiff(name, rows)


def diff_snapshots(source: dict, target: dict, *, parts=PARTS) -> list[PartDiff]:
    """The differences of every part, in PARTS order. A target that does not exist differs in every part the
    source has something in."""
    return [diff_part(name, source, target) for name in PARTS if name in parts]


def is_empty(diffs: list[PartDiff], *, ignore=("publication",)) -> bool:
    """No difference in any part (publication aside by default: a promote may leave it to the person)."""
    return not any(d.changed for d in diffs if d.name not in ignore)
