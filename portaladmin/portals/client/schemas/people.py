"""Users, groups, per-row invite/batch results and API keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._common import _b, _Base, _d, _i, _l, _opt_s, _raw_field, _s, _username


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
                   is_revoked=bool(d.get("is_revoked") or (rev or {}).get("is_revoked")
                                   or (rev or {}).get("revoked_at")),
                   revocation_status=rev, key=_opt_s(d.get("key")), raw={k: v for k, v in d.items() if k != "key"})

    @property
    def revoked_at(self) -> str | None:
        return _opt_s((self.revocation_status or {}).get("revoked_at"))

    @property
    def revocation_reason(self) -> str:
        return _s((self.revocation_status or {}).get("revocation_reason"))
