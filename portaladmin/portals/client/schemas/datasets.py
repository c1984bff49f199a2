"""Datasets and their processing status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._common import _b, _Base, _d, _l, _opt_s, _raw_field, _s


@dataclass
class Dataset(_Base):
    uid: str = ""
    dataset_id: str = ""
    is_published: bool | None = None
    is_restricted: bool | None = None
    created_at: str | None = None
    updated_at: str | None = None
    metadata: dict = field(default_factory=dict, repr=False)
    default_security: dict | None = field(default=None, repr=False)
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> Dataset:
        d = _d(data)
        return cls(uid=_s(d.get("uid")), dataset_id=_s(d.get("dataset_id")), is_published=_b(d.get("is_published")),
                   is_restricted=_b(d.get("is_restricted")), created_at=_opt_s(d.get("created_at")),
                   updated_at=_opt_s(d.get("updated_at")), metadata=_d(d.get("metadata")),
                   default_security=d.get("default_security") if isinstance(d.get("default_security"), dict) else None,
                   raw=d)

    def metadata_value(self, template: str, name: str, default: Any = None) -> Any:
        entry = _d(self.metadata.get(template)).get(name)
        if isinstance(entry, dict):
            if entry.get("override_remote_value") is False and "remote_value" in entry:
                return entry.get("remote_value", default)
            return entry.get("value", default)
        return default if entry is None else entry

    @property
    def title(self) -> str:
        return _s(self.metadata_value("default", "title")) or self.dataset_id


@dataclass
class RecordError(_Base):
    record_id: str | None = None
    field_uid: str | None = None
    processor_uid: str | None = None
    message: str = ""
    raw: dict = _raw_field()


@dataclass
class DatasetStatus(_Base):
    TERMINAL: ClassVar[frozenset[str]] = frozenset({"idle", "error", "limit_reached"})
    SUCCESS: ClassVar[frozenset[str]] = frozenset({"idle"})
    FAILURE: ClassVar[frozenset[str]] = frozenset({"error", "limit_reached"})
    BUSY: ClassVar[frozenset[str]] = frozenset(
        {"queued", "processing", "aborting_processing", "deleting", "saving_version"})
    ALL: ClassVar[frozenset[str]] = TERMINAL | BUSY

    status: str = ""
    previous: str | None = None
    next: str | None = None
    since: str | None = None
    is_published: bool | None = None
    message: str | None = None
    records_errors: list[RecordError] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> DatasetStatus:
        d = _d(data)
        return cls(status=_s(d.get("status")), previous=_opt_s(d.get("previous")), next=_opt_s(d.get("next")),
                   since=_opt_s(d.get("since")), is_published=_b(d.get("is_published")),
                   message=_opt_s(d.get("message")),
                   records_errors=[RecordError.from_dict(x) for x in _l(d.get("records_errors"))],
                   params=_d(d.get("params")), raw=d)

    @property
    def is_known(self) -> bool:
        return self.status in self.ALL

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def is_success(self) -> bool:
        return self.status in self.SUCCESS

    @property
    def is_failure(self) -> bool:
        return self.status in self.FAILURE

    @property
    def is_busy(self) -> bool:  # unknown states count as busy
        return not self.is_terminal
