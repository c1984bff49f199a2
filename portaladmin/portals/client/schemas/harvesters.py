"""Harvesters, their errors and previews."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._common import _b, _Base, _d, _i, _l, _opt_s, _raw_field, _s


@dataclass
class Harvester(_Base):
    BUSY: ClassVar[frozenset[str]] = frozenset({"queued", "processing", "aborting", "deleting"})
    IDLE: ClassVar[frozenset[str]] = frozenset({"new", "idle"})

    uid: str = ""
    type: str = ""
    name: str = ""
    status: str = ""
    has_error: bool = False
    resource_errors_count: int = 0
    remote_datasets_count: int = 0
    harvested_datasets_count: int = 0
    published_datasets_count: int = 0
    attached_datasets_count: int = 0
    last_started_at: str | None = None
    last_success_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    delete_missing_datasets: bool | None = None
    restrict_datasets_visibility: bool | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> Harvester:
        d = _d(data)
        counts = {k: _i(d.get(k)) for k in ("resource_errors_count", "remote_datasets_count",
                                            "harvested_datasets_count", "published_datasets_count",
                                            "attached_datasets_count")}
        return cls(uid=_s(d.get("uid")), type=_s(d.get("type")), name=_s(d.get("name")), status=_s(d.get("status")),
                   has_error=bool(d.get("has_error")), last_started_at=_opt_s(d.get("last_started_at")),
                   last_success_at=_opt_s(d.get("last_success_at")), created_at=_opt_s(d.get("created_at")),
                   updated_at=_opt_s(d.get("updated_at")), delete_missing_datasets=_b(d.get("delete_missing_datasets")),
                   restrict_datasets_visibility=_b(d.get("restrict_datasets_visibility")), raw=d, **counts)

    @property
    def is_busy(self) -> bool:
        return self.status in self.BUSY

    @property
    def is_idle(self) -> bool:
        return self.status in self.IDLE


@dataclass
class HarvesterErrors(_Base):
    harvester: str | None = None
    resources: dict[str, str] = field(default_factory=dict)
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> HarvesterErrors:
        d = _d(data)
        return cls(harvester=_opt_s(d.get("harvester")),
                   resources={str(k): _s(v) for k, v in _d(d.get("resources")).items()}, raw=d)

    @property
    def has_errors(self) -> bool:
        return bool(self.harvester or self.resources)


@dataclass
class HarvesterPreview(_Base):
    total_count: int = 0
    results: list[dict] = field(default_factory=list)
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> HarvesterPreview:
        d = _d(data)
        results = _l(d.get("results"))
        return cls(total_count=_i(d.get("total_count"), len(results)), results=results, raw=d)
