"""What hangs off a dataset: resources, metadata, rulesets, processors, fields, schedules, versions, files, feedbacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._common import _b, _Base, _d, _l, _opt_s, _raw_field, _s, _username


@dataclass
class Resource(_Base):
    uid: str = ""
    type: str = ""
    title: str = ""
    display_name: str = ""
    updated_at: str | None = None
    params: dict = field(default_factory=dict, repr=False)
    datasource: dict = field(default_factory=dict, repr=False)
    extraction_infos: dict | None = field(default=None, repr=False)
    origin: dict | None = field(default=None, repr=False)
    raw: dict = _raw_field()


@dataclass
class UploadedFile(_Base):
    uid: str = ""
    filename: str = ""
    mimetype: str | None = None
    created_at: str | None = None
    raw: dict = _raw_field()


@dataclass
class ResourcePreview(_Base):
    fields: list[dict] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)
    raw: dict = _raw_field()


@dataclass
class Extractor(_Base):
    type: str = ""
    label: str = ""
    parameters: list[dict] = field(default_factory=list, repr=False)
    raw: dict = _raw_field()


@dataclass
class MetadataValue(_Base):
    value: Any = None
    remote_value: Any = None
    override_remote_value: bool | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> MetadataValue:
        if not isinstance(data, dict):  # a bare value
            return cls(value=data, raw={"value": data})
        return cls(value=data.get("value"), remote_value=data.get("remote_value"),
                   override_remote_value=_b(data.get("override_remote_value")), raw=data)


def metadata_fields(data: Any) -> dict[str, MetadataValue]:
    return {str(k): MetadataValue.from_dict(v) for k, v in _d(data).items()}


def metadata_templates(data: Any) -> dict[str, dict[str, MetadataValue]]:
    return {str(k): metadata_fields(v) for k, v in _d(data).items()}


@dataclass
class SecurityRuleset(_Base):
    kind: str = "user"
    username: str | None = None
    group_uid: str | None = None
    permissions: list[str] = field(default_factory=list)
    security: dict | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> SecurityRuleset:
        d = _d(data)
        if "group" in d:
            group = d.get("group")
            group_uid = _opt_s(group.get("uid")) if isinstance(group, dict) else _opt_s(group)
            kind, username = "group", None
        else:
            group_uid, kind, username = None, "user", _username(d.get("user"))
        security = d.get("security") if isinstance(d.get("security"), dict) else None
        return cls(kind=kind, username=username, group_uid=group_uid,
                   permissions=[str(p) for p in _l(d.get("permissions"))], security=security, raw=d)

    @property
    def target(self) -> str:
        return (self.username if self.kind == "user" else self.group_uid) or ""


@dataclass
class Processor(_Base):
    uid: str = ""
    type: str = ""
    label: str = ""
    args: dict = field(default_factory=dict, repr=False)
    raw: dict = _raw_field()


@dataclass
class FieldConfig(_Base):
    uid: str = ""
    type: str = ""
    label: str = ""
    field: str | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> FieldConfig:
        d = _d(data)
        name = d.get("field") or d.get("field_name") or d.get("from_name")
        if name is None and isinstance(d.get(d.get("type")), dict):  # {"type": "rename", "rename": {...}}
            inner = d[d["type"]]
            name = inner.get("field") or inner.get("from_name") or inner.get("field_name")
        return cls(uid=_s(d.get("uid")), type=_s(d.get("type")), label=_s(d.get("label")), field=_opt_s(name), raw=d)


@dataclass
class Schedule(_Base):
    uid: str = ""
    cron_schedule: str = ""
    timezone: str | None = None
    raw: dict = _raw_field()


@dataclass
class Version(_Base):
    uid: str = ""
    sections: list = field(default_factory=list)
    created_by: str | None = None
    can_restore: bool | None = None
    created_at: str | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> Version:
        d = _d(data)
        return cls(uid=_s(d.get("uid")), sections=_l(d.get("sections")), created_by=_username(d.get("created_by")),
                   can_restore=_b(d.get("can_restore")), created_at=_opt_s(d.get("created_at")), raw=d)


@dataclass
class Attachment(_Base):
    uid: str = ""
    filename: str = ""
    mimetype: str | None = None
    created_at: str | None = None
    raw: dict = _raw_field()


@dataclass
class AlternativeExport(_Base):
    uid: str = ""
    title: str = ""
    description: str = ""
    mimetype: str | None = None
    type: str = ""
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict = _raw_field()


@dataclass
class Feedback(_Base):
    uid: str = ""
    record_id: str | None = None
    username: str | None = None
    comment: str = ""
    values: dict = field(default_factory=dict)
    is_archived: bool = False
    created_at: str | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> Feedback:
        d = _d(data)
        return cls(uid=_s(d.get("uid")), record_id=_opt_s(d.get("record_id")), username=_username(d.get("user")),
                   comment=_s(d.get("comment")), values=_d(d.get("values")), is_archived=bool(d.get("is_archived")),
                   created_at=_opt_s(d.get("created_at")), raw=d)
