"""Studio pages, code editor pages, datasource connections, metadata templates and assets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._common import _b, _Base, _d, _i, _l, _opt_s, _raw_field, _s, _username


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


# Secret parts of a datasource connection: never kept, even if a portal sends them back (write-only here).
SECRET_NAMES = frozenset({"password", "secret", "secret_access_key", "client_secret", "token", "access_token",
                          "refresh_token", "private_key", "sas_token", "account_key"})


def without_secrets(value: Any) -> Any:
    """A copy of a decoded datasource connection with every secret field and every header value removed."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if str(k).lower() in SECRET_NAMES:
                continue
            if k == "headers" and isinstance(v, list):
                out[k] = [{"name": h.get("name")} for h in v if isinstance(h, dict)]
                continue
            out[k] = without_secrets(v)
        return out
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


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
    url: str = ""
    auth_type: str | None = None
    auth_username: str | None = None
    header_names: list[str] = field(default_factory=list)
    can_manage: bool | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> DatasourceConnection:
        d = without_secrets(_d(data))
        auth = d.get("auth") if isinstance(d.get("auth"), dict) else {}
        return cls(uid=_s(d.get("uid")), type=_s(d.get("type")), is_reusable=_b(d.get("is_reusable")),
                   dataset_count=_i(d.get("dataset_count")), user_count=_i(d.get("user_count")),
                   group_count=_i(d.get("group_count")), created_at=_opt_s(d.get("created_at")),
                   updated_at=_opt_s(d.get("updated_at")), url=_s(d.get("url")),
                   auth_type=_opt_s(auth.get("type")), auth_username=_opt_s(auth.get("username")),
                   header_names=[str(h.get("name")) for h in _l(d.get("headers")) if isinstance(h, dict)],
                   can_manage=_b(d.get("can_manage")), raw=d)


@dataclass
class MetadataTemplateField(_Base):
    """One field of a template's schema: its type decides the editor's input (see datasets/metadata_form.py)."""

    name: str = ""
    type: str = "text"
    label: str = ""
    help_text: str | None = None
    is_hidden: bool | None = None
    requirement_level: str | None = None
    choices: list[str] | None = None
    labels: dict | None = None
    self_suggest: bool | None = None
    suggest_url: str | None = None
    is_filter: bool | None = None
    i18n: bool | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> MetadataTemplateField:
        d = _d(data)
        choices = d.get("choices")
        return cls(name=_s(d.get("name")), type=_s(d.get("type")) or "text", label=_s(d.get("label")),
                   help_text=_opt_s(d.get("help_text")), is_hidden=_b(d.get("is_hidden")),
                   requirement_level=_opt_s(d.get("requirement_level")),
                   choices=[_s(c) for c in choices] if isinstance(choices, list) else None,
                   labels=d.get("labels") if isinstance(d.get("labels"), dict) else None,
                   self_suggest=_b(d.get("self_suggest")), suggest_url=_opt_s(d.get("suggest_url")),
                   is_filter=_b(d.get("is_filter")), i18n=_b(d.get("i18n")), raw=d)

    @property
    def required(self) -> bool:
        return self.requirement_level == "mandatory"


@dataclass
class MetadataTemplate(_Base):
    name: str = ""
    title: str = ""
    type: str = ""
    is_active: bool | None = None
    is_always_active: bool | None = None
    is_system: bool | None = None
    schema: list[dict] = field(default_factory=list, repr=False)
    updated_at: str | None = None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> MetadataTemplate:
        d = _d(data)
        return cls(name=_s(d.get("name")), title=_s(d.get("title")), type=_s(d.get("type")),
                   is_active=_b(d.get("is_active")), is_always_active=_b(d.get("is_always_active")),
                   is_system=_b(d.get("is_system")), schema=[f for f in _l(d.get("schema")) if isinstance(f, dict)],
                   updated_at=_opt_s(d.get("updated_at")), raw=d)

    @property
    def fields(self) -> list[MetadataTemplateField]:
        return [MetadataTemplateField.from_dict(f) for f in self.schema]


@dataclass
class MetadataSuggestion(_Base):
    """Values already used for a field (…/suggest/ answers {"hits": [...]}; a hit is a string or {"value": …})."""

    values: list[str] = field(default_factory=list)
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, data: Any) -> MetadataSuggestion:
        d = _d(data)
        values = []
        for hit in _l(d.get("hits")):
            value = hit.get("value", hit.get("name")) if isinstance(hit, dict) else hit
            if isinstance(value, str | int | float) and str(value) not in values:
                values.append(str(value))
        return cls(values=values, raw=d)


@dataclass
class Asset(_Base):
    url: str = ""
    raw: dict = _raw_field()
