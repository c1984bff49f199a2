"""Users, groups (and their members) and API keys.

Reference: https://help.opendatasoft.com/apis/automation/v1.0/ (Users, User groups, API keys).
"""

from __future__ import annotations

from collections.abc import Iterator

from .schemas import ApiKey, Group, ItemResult, Page, User, item_results


def _user_filters(search, sort, permissions, all_permissions) -> dict:
    return {"search": search or None, "sort": _listify(sort), "permissions": _listify(permissions),
            "all_permissions": _listify(all_permissions)}


def _listify(value) -> list[str] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


class UsersMixin:
    def user_list(self, *, search: str | None = None, sort=None, permissions=None, all_permissions=None,
                  limit: int = 20, offset: int = 0) -> Page[User]:
        params = _user_filters(search, sort, permissions, all_permissions)
        return self._page("/users/", User.from_dict, params, limit=limit, offset=offset)

    def user_iter(self, *, search: str | None = None, sort=None, permissions=None, all_permissions=None,
                  page_size: int = 1000) -> Iterator[User]:
        params = _user_filters(search, sort, permissions, all_permissions)
        return self._iter("/users/", User.from_dict, params, page_size=page_size)

    def user_emails(self, *, page_size: int = 1000) -> Iterator[str]:
        """Every member's e-mail address (lower-cased), without building a User per row: the invite check reads
        the whole member list before each chunk, so parsing only what it needs keeps that walk cheap."""
        return self._iter("/users/", _email_of, {}, page_size=page_size)

    def user_count(self, *, search: str | None = None, permissions=None, all_permissions=None) -> int:
        return self._count("/users/", _user_filters(search, None, permissions, all_permissions))

    def user_get(self, username: str) -> User:
        return User.from_dict(self._get(self.path("users", username)))

    def user_update(self, username: str, body: dict) -> User:
        return User.from_dict(self._put(self.path("users", username), body))

    def user_delete(self, username: str) -> None:
        """Fails (with the portal's message) when the user is the last domain administrator."""
        self._delete(self.path("users", username))

    def user_export_csv(self, *, delimiter: str | None = None, subdomains: str | None = None,
                        chunk_size: int = 65536) -> Iterator[bytes]:
        """The CSV export, streamed. Consume the iterator fully (or close it) to free the connection."""
        params = {"delimiter": delimiter, "subdomains": subdomains}
        return self._stream("/users/export/", params, chunk_size)

    def user_invite(self, users: list[dict]) -> list[ItemResult]:
        """Invite users (each dict at least {"email": …}); partial success is normal: check each result."""
        return item_results(self._post("/users/invite/", list(users)))

    def user_provision(self, body: dict) -> list[ItemResult]:
        return item_results(self._post("/users/provision/", body))


class GroupsMixin:
    def group_list(self, *, search: str | None = None, sort: str | None = None, permissions=None,
                   limit: int = 20, offset: int = 0) -> Page[Group]:
        params = {"search": search or None, "sort": sort, "permissions": _listify(permissions)}
        return self._page("/groups/", Group.from_dict, params, limit=limit, offset=offset)

    def group_iter(self, *, search: str | None = None, sort: str | None = None, permissions=None,
                   page_size: int = 1000) -> Iterator[Group]:
        params = {"search": search or None, "sort": sort, "permissions": _listify(permissions)}
        return self._iter("/groups/", Group.from_dict, params, page_size=page_size)

    def group_count(self, *, search: str | None = None, permissions=None) -> int:
        return self._count("/groups/", {"search": search or None, "permissions": _listify(permissions)})

    def group_get(self, group_uid: str) -> Group:
        return Group.from_dict(self._get(self.path("groups", group_uid)))

    def group_create(self, *, title: str, description: str | None = None, permissions: list[str] | None = None,
                     extra: dict | None = None) -> Group:
        body: dict = dict(extra or {})
        body["title"] = title
        if description is not None:
            body["description"] = description
        if permissions is not None:
            body["permissions"] = list(permissions)
        return Group.from_dict(self._post("/groups/", body))

    def group_update(self, group_uid: str, body: dict) -> Group:
        return Group.from_dict(self._put(self.path("groups", group_uid), body))

    def group_delete(self, group_uid: str) -> None:
        self._delete(self.path("groups", group_uid))

    def group_member_list(self, group_uid: str) -> Page[User]:
        return self._page_all(self.path("groups", group_uid, "users"), User.from_dict)

    def group_member_add(self, group_uid: str, username: str) -> User:
        return User.from_dict(self._post(self.path("groups", group_uid, "users"), {"username": username}))

    def group_member_batch_add(self, group_uid: str, usernames: list[str]) -> list[ItemResult]:
        body = [{"username": name} for name in usernames]
        return item_results(self._post(self.path("groups", group_uid, "users", "batch"), body))

    def group_member_remove(self, group_uid: str, username: str) -> None:
        self._delete(self.path("groups", group_uid, "users", username))


class ApiKeysMixin:
    def apikey_list(self, *, limit: int = 20, offset: int = 0) -> Page[ApiKey]:
        return self._page("/apikeys/", ApiKey.from_dict, limit=limit, offset=offset)

    def apikey_iter(self, *, page_size: int = 1000) -> Iterator[ApiKey]:
        return self._iter("/apikeys/", ApiKey.from_dict, page_size=page_size)

    def apikey_get(self, apikey_uid: str, *, expand: str | None = None) -> ApiKey:
        return ApiKey.from_dict(self._get(self.path("apikeys", apikey_uid), {"expand": expand}))

    def apikey_update(self, apikey_uid: str, *, label: str | None = None,
                      permissions: list[str] | None = None) -> ApiKey:
        """Only the label and the permissions of a key can change; its secret never does."""
        body: dict = {}
        if label is not None:
            body["label"] = label
        if permissions is not None:
            body["permissions"] = list(permissions)
        return ApiKey.from_dict(self._put(self.path("apikeys", apikey_uid), body))

    def apikey_search(self, key: str) -> ApiKey | None:
        """The key object of a secret (e.g. the connection's own key: its permissions, owner, revocation),
        or None when the portal does not know it. The secret travels in the body, never in a URL."""
        answer = self._post("/apikeys/search_key/", {"key": key})
        found = answer.get("result") if isinstance(answer, dict) and answer.get("found") else None
        return ApiKey.from_dict(found) if isinstance(found, dict) else None

    def apikey_create(self, *, label: str, permissions: list[str] | None = None) -> ApiKey:
        body: dict = {"label": label}
        if permissions is not None:
            body["permissions"] = list(permissions)
        return ApiKey.from_dict(self._post("/apikeys/", body))

    def apikey_revoke(self, apikey_uid: str, *, reason: str | None = None) -> ApiKey:
        body = {"reason": reason} if reason else None
        return ApiKey.from_dict(self._post(self.path("apikeys", apikey_uid, "revoke"), body))


def _email_of(raw) -> str:
    return str((raw or {}).get("email") or "").strip().lower() if isinstance(raw, dict) else ""
