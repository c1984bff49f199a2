"""Typed results built tolerantly from the portal's JSON.

`T.from_dict(d)` ignores unknown keys and defaults missing optional ones; the original dict stays in `.raw`
(excluded from repr and equality) for templates that need an extra field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar


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


# ------------------------------------------------------------------------------------------------ datasets


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


# ------------------------------------------------------------------------------------------------ harvesters


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


# ------------------------------------------------------------------------------------------------ people


@dataclass
class User(_Base):
    username: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    display_name: str = ""
    is_active: bool | None = None
    account_type: str | None = None
    permissions: list[str] = field(default_factory=list)
    groups: list[dict] = field(default_factory=list, repr=False)
    joined_at: str | None = None
    last_seen_at: str | None = None
    last_login_at: str | None = None
    expires_at: str | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> User:
        d = _d(data)
        groups = [g if isinstance(g, dict) else {"uid": str(g)} for g in _l(d.get("groups"))]
        return cls(username=_s(d.get("username")), email=_s(d.get("email")), first_name=_s(d.get("first_name")),
                   last_name=_s(d.get("last_name")), display_name=_s(d.get("display_name")),
                   is_active=_b(d.get("is_active")), account_type=_opt_s(d.get("account_type")),
                   permissions=[str(p) for p in _l(d.get("permissions"))], groups=groups,
                   joined_at=_opt_s(d.get("joined_at")), last_seen_at=_opt_s(d.get("last_seen_at")),
                   last_login_at=_opt_s(d.get("last_login_at")), expires_at=_opt_s(d.get("expires_at")), raw=d)


@dataclass
class Group(_Base):
    uid: str = ""
    title: str = ""
    description: str = ""
    user_count: int = 0
    permissions: list[str] = field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> Group:
        d = _d(data)
        return cls(uid=_s(d.get("uid")), title=_s(d.get("title")), description=_s(d.get("description")),
                   user_count=_i(d.get("user_count")), permissions=[str(p) for p in _l(d.get("permissions"))],
                   created_at=_opt_s(d.get("created_at")), updated_at=_opt_s(d.get("updated_at")), raw=d)


@dataclass
class ItemResult(_Base):
    index: int = 0
    key: str = ""
    ok: bool = False
    status_code: str = ""
    data: dict | None = None
    error: Any = None
    message: str = ""
    raw: dict = _raw_field()

    @classmethod
    def from_item(cls, key: Any, data: Any) -> ItemResult:
        d = _d(data)
        status_code = _s(d.get("status_code"))
        ok = status_code == "success"
        error = d.get("error")
        message = "" if ok else (_error_text(error) or _s(d.get("message")) or "Failed.")
        return cls(index=_i(key, -1), key=str(key), ok=ok, status_code=status_code,
                   data=d.get("data") if isinstance(d.get("data"), dict) else None, error=error,
                   message=message, raw=d)

    @property
    def user(self) -> User | None:
        return User.from_dict(self.data) if self.data is not None else None


def _error_text(error: Any) -> str:
    if error is None:
        return ""
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        if isinstance(error.get("message"), str):
            return error["message"]
        parts = []
        for k, v in error.items():
            vs = v if isinstance(v, list) else [v]
            parts.append(f"{k}: {'; '.join(str(x) for x in vs)}")
        return "; ".join(parts)
    if isinstance(error, list):
        return "; ".join(_error_text(e) for e in error)
    return str(error)


def item_results(data: Any) -> list[ItemResult]:
    """Per-row results of invite / provision / batch add, ordered by the position of the row sent."""
    if isinstance(data, list):
        items = [ItemResult.from_item(i, x) for i, x in enumerate(data)]
    else:
        items = [ItemResult.from_item(k, v) for k, v in _d(data).items()]
    return sorted(items, key=lambda r: (r.index, r.key))


@dataclass
class ApiKey(_Base):
    uid: str = ""
    label: str = ""
    permissions: list[str] = field(default_factory=list)
    created_at: str | None = None
    username: str | None = None
    is_revoked: bool = False
    revocation_status: dict | None = None
    key: str | None = field(default=None, repr=False)
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> ApiKey:
        d = _d(data)
        rev = d.get("revocation_status") if isinstance(d.get("revocation_status"), dict) else None
        return cls(uid=_s(d.get("uid")), label=_s(d.get("label")),
                   permissions=[str(p) for p in _l(d.get("permissions"))], created_at=_opt_s(d.get("created_at")),
                   username=_username(d.get("user")),
                   is_revoked=bool(d.get("is_revoked") or (rev or {}).get("is_revoked")),
                   revocation_status=rev, key=_opt_s(d.get("key")), raw=d)


# ------------------------------------------------------------------------------------------------ pages, misc


@dataclass
class StudioPage(_Base):
    uid: str = ""
    slug: str = ""
    public: bool | None = None
    contents: list = field(default_factory=list, repr=False)
    first_published_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    created_by: str | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> StudioPage:
        d = _d(data)
        return cls(uid=_s(d.get("uid")), slug=_s(d.get("slug")), public=_b(d.get("public")),
                   contents=_l(d.get("contents")), first_published_at=_opt_s(d.get("first_published_at")),
                   created_at=_opt_s(d.get("created_at")), updated_at=_opt_s(d.get("updated_at")),
                   created_by=_username(d.get("created_by")), raw=d)


@dataclass
class CodePage(_Base):
    slug: str = ""
    title: dict = field(default_factory=dict)
    description: str = ""
    content: dict = field(default_factory=dict, repr=False)
    template: str | None = None
    tags: list[str] = field(default_factory=list)
    is_restricted: bool | None = None
    is_archived: bool | None = None
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> CodePage:
        d = _d(data)
        title = d.get("title")
        title = title if isinstance(title, dict) else ({"": str(title)} if title else {})
        return cls(slug=_s(d.get("slug")), title=title, description=_s(d.get("description")),
                   content=_d(d.get("content")), template=_opt_s(d.get("template")),
                   tags=[str(t) for t in _l(d.get("tags"))], is_restricted=_b(d.get("is_restricted")),
                   is_archived=_b(d.get("is_archived")), created_at=_opt_s(d.get("created_at")),
                   updated_at=_opt_s(d.get("updated_at")), raw=d)

    @property
    def display_title(self) -> str:
        for value in self.title.values():
            if value:
                return str(value)
        return self.slug


@dataclass
class DatasourceConnection(_Base):
    uid: str = ""
    type: str = ""
    is_reusable: bool | None = None
    dataset_count: int = 0
    user_count: int = 0
    group_count: int = 0
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> DatasourceConnection:
        d = _d(data)
        return cls(uid=_s(d.get("uid")), type=_s(d.get("type")), is_reusable=_b(d.get("is_reusable")),
                   dataset_count=_i(d.get("dataset_count")), user_count=_i(d.get("user_count")),
                   group_count=_i(d.get("group_count")), created_at=_opt_s(d.get("created_at")),
                   updated_at=_opt_s(d.get("updated_at")), raw=d)


@dataclass
class MetadataTemplate(_Base):
    name: str = ""
    title: str = ""
    type: str = ""
    is_active: bool | None = None
    is_system: bool | None = None
    schema: list[dict] = field(default_factory=list, repr=False)
    raw: dict = _raw_field()


@dataclass
class MetadataTemplateField(_Base):
    name: str = ""
    type: str = ""
    label: str = ""
    is_hidden: bool | None = None
    requirement_level: str | None = None
    choices: Any = None
    raw: dict = _raw_field()


@dataclass
class Asset(_Base):
    url: str = ""
    raw: dict = _raw_field()


__all__ = [
    "Page", "Dataset", "DatasetStatus", "RecordError", "Resource", "UploadedFile", "ResourcePreview", "Extractor",
    "MetadataValue", "SecurityRuleset", "Processor", "FieldConfig", "Schedule", "Version", "Attachment",
    "AlternativeExport", "Feedback", "Harvester", "HarvesterErrors", "HarvesterPreview", "User", "Group",
    "ItemResult", "ApiKey", "StudioPage", "CodePage", "DatasourceConnection", "MetadataTemplate",
    "MetadataTemplateField", "Asset", "metadata_fields", "metadata_templates", "item_results",
]
