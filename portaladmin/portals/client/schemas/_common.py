"""Shared helpers and Page for the typed results built tolerantly from the portal's JSON.

`T.from_dict(d)` ignores unknown keys and defaults missing optional ones; the original dict stays in `.raw`
(excluded from repr and equality) for templates that need an extra field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


def _raw_field() -> Any:
    return field(default_factory=dict, repr=False, compare=False)


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _opt_s(value: Any) -> str | None:
    return None if value is None else str(value)


def _i(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _b(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _d(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list:
    return value if isinstance(value, list) else []


def _username(value: Any) -> str | None:
    if isinstance(value, dict):
        return _opt_s(value.get("username"))
    return _opt_s(value)


class _Base:
    raw: dict

    @classmethod
    def from_dict(cls, data: Any):  # overridden where fields need conversion
        data = data if isinstance(data, dict) else {}
        names = {f.name for f in dataclasses.fields(cls)} - {"raw"}  # type: ignore[arg-type]
        kwargs = {k: data[k] for k in names if k in data and data[k] is not None}
        return cls(**kwargs, raw=data)  # type: ignore[call-arg]


@dataclass
class Page[T]:
    total_count: int = 0
    next: str | None = None
    previous: str | None = None
    results: list[T] = field(default_factory=list)
    raw: dict = _raw_field()

    @property
    def has_next(self) -> bool:
        return bool(self.next)

    def __iter__(self) -> Iterator[T]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @classmethod
    def from_dict(cls, data: Any, item: Callable[[Any], Any]) -> Page:
        if isinstance(data, list):  # tolerate a plain array
            return cls(total_count=len(data), results=[item(x) for x in data], raw={"results": data})
        data = _d(data)
        results = [item(x) for x in _l(data.get("results"))]
        total = _i(data.get("total_count"), len(results))
        return cls(total_count=total, next=_opt_s(data.get("next")), previous=_opt_s(data.get("previous")),
                   results=results, raw=data)
