"""Studio pages (by uid) and code editor pages (by slug), with their user/group rulesets.

Reference: https://help.opendatasoft.com/apis/automation/v1.0/ (Studio pages, Code editor pages).
"""

from __future__ import annotations

from collections.abc import Iterator

from .schemas import CodePage, Page, SecurityRuleset, StudioPage


class _RulesetsMixin:
    """User/group ruleset CRUD under /<collection>/<key>/security/{users,groups}/."""

    def _rs_list(self, collection, key, kind, limit, offset) -> Page[SecurityRuleset]:
        return self._page(self.path(collection, key, "security", kind), SecurityRuleset.from_dict,
                          limit=limit, offset=offset)

    def _rs_get(self, collection, key, kind, target) -> SecurityRuleset:
        return SecurityRuleset.from_dict(self._get(self.path(collection, key, "security", kind, target)))

    def _rs_body(self, kind, target, permissions) -> dict:
        who = {"user": {"username": target}} if kind == "users" else {"group": {"uid": target}}
        return {**who, "permissions": list(permissions or [])}

    def _rs_create(self, collection, key, kind, target, permissions) -> SecurityRuleset:
        body = self._rs_body(kind, target, permissions)
        return SecurityRuleset.from_dict(self._post(self.path(collection, key, "security", kind), body))

    def _rs_update(self, collection, key, kind, target, permissions) -> SecurityRuleset:
        body = self._rs_body(kind, target, permissions)
        return SecurityRuleset.from_dict(self._put(self.path(collection, key, "security", kind, target), body))

    def _rs_delete(self, collection, key, kind, target) -> None:
        self._delete(self.path(collection, key, "security", kind, target))


class StudioPagesMixin(_RulesetsMixin):
    def studio_page_list(self, *, limit: int = 20, offset: int = 0) -> Page[StudioPage]:
        return self._page("/studio_pages/", StudioPage.from_dict, limit=limit, offset=offset)

    def studio_page_iter(self, *, page_size: int = 1000) -> Iterator[StudioPage]:
        return self._iter("/studio_pages/", StudioPage.from_dict, page_size=page_size)

    def studio_page_get(self, page_uid: str) -> StudioPage:
        return StudioPage.from_dict(self._get(self.path("studio_pages", page_uid)))

    def studio_page_create(self, body: dict) -> StudioPage:
        return StudioPage.from_dict(self._post("/studio_pages/", body))

    def studio_page_update(self, page_uid: str, body: dict) -> StudioPage:
        return StudioPage.from_dict(self._put(self.path("studio_pages", page_uid), body))

    def studio_page_delete(self, page_uid: str) -> None:
        self._delete(self.path("studio_pages", page_uid))

    def studio_page_publish(self, page_uid: str) -> None:
        self._post(self.path("studio_pages", page_uid, "publish"))

    def studio_page_unpublish(self, page_uid: str) -> None:
        self._post(self.path("studio_pages", page_uid, "unpublish"))

    def studio_page_user_ruleset_list(self, page_uid: str, *, limit: int = 20,
                                      offset: int = 0) -> Page[SecurityRuleset]:
        return self._rs_list("studio_pages", page_uid, "users", limit, offset)

    def studio_page_user_ruleset_get(self, page_uid: str, username: str) -> SecurityRuleset:
        return self._rs_get("studio_pages", page_uid, "users", username)

    def studio_page_user_ruleset_create(self, page_uid: str, *, username: str, permissions=()) -> SecurityRuleset:
        return self._rs_create("studio_pages", page_uid, "users", username, permissions)

    def studio_page_user_ruleset_update(self, page_uid: str, username: str, *, permissions=()) -> SecurityRuleset:
        return self._rs_update("studio_pages", page_uid, "users", username, permissions)

    def studio_page_user_ruleset_delete(self, page_uid: str, username: str) -> None:
        self._rs_delete("studio_pages", page_uid, "users", username)

    def studio_page_group_ruleset_list(self, page_uid: str, *, limit: int = 20,
                                       offset: int = 0) -> Page[SecurityRuleset]:
        return self._rs_list("studio_pages", page_uid, "groups", limit, offset)

    def studio_page_group_ruleset_get(self, page_uid: str, group_uid: str) -> SecurityRuleset:
        return self._rs_get("studio_pages", page_uid, "groups", group_uid)

    def studio_page_group_ruleset_create(self, page_uid: str, *, group_uid: str, permissions=()) -> SecurityRuleset:
        return self._rs_create("studio_pages", page_uid, "groups", group_uid, permissions)

    def studio_page_group_ruleset_update(self, page_uid: str, group_uid: str, *, permissions=()) -> SecurityRuleset:
        return self._rs_update("studio_pages", page_uid, "groups", group_uid, permissions)

    def studio_page_group_ruleset_delete(self, page_uid: str, group_uid: str) -> None:
        self._rs_delete("studio_pages", page_uid, "groups", group_uid)


class CodePagesMixin(_RulesetsMixin):
    def code_page_list(self, *, limit: int = 20, offset: int = 0) -> Page[CodePage]:
        return self._page("/code_editor_pages/", CodePage.from_dict, limit=limit, offset=offset)

    def code_page_iter(self, *, page_size: int = 1000) -> Iterator[CodePage]:
        return self._iter("/code_editor_pages/", CodePage.from_dict, page_size=page_size)

    def code_page_get(self, slug: str) -> CodePage:
        return CodePage.from_dict(self._get(self.path("code_editor_pages", slug)))

    def code_page_create(self, body: dict) -> CodePage:
        return CodePage.from_dict(self._post("/code_editor_pages/", body))

    def code_page_update(self, slug: str, body: dict) -> CodePage:
        return CodePage.from_dict(self._put(self.path("code_editor_pages", slug), body))

    def code_page_delete(self, slug: str) -> None:
        self._delete(self.path("code_editor_pages", slug))

    def code_page_archive(self, slug: str) -> None:
        self._post(self.path("code_editor_pages", slug, "archive"))

    def code_page_unarchive(self, slug: str) -> None:
        self._post(self.path("code_editor_pages", slug, "unarchive"))

    def code_page_bulk_delete(self, *, slugs: list[str] | None = None, search: str | None = None) -> list[str]:
        """Delete several pages at once; answers the deleted slugs. Exactly one of slugs/search."""
        if (not slugs) == (not search):
            raise ValueError("give either slugs or search (not both, not neither)")
        params = {"slug": list(slugs)} if slugs else {"search": search}
        data = self._delete("/code_editor_pages/", params)
        return [str(s) for s in data or []]

    def code_page_user_ruleset_list(self, slug: str, *, limit: int = 20, offset: int = 0) -> Page[SecurityRuleset]:
        return self._rs_list("code_editor_pages", slug, "users", limit, offset)

    def code_page_user_ruleset_get(self, slug: str, username: str) -> SecurityRuleset:
        return self._rs_get("code_editor_pages", slug, "users", username)

    def code_page_user_ruleset_create(self, slug: str, *, username: str, permissions=()) -> SecurityRuleset:
        return self._rs_create("code_editor_pages", slug, "users", username, permissions)

    def code_page_user_ruleset_update(self, slug: str, username: str, *, permissions=()) -> SecurityRuleset:
        return self._rs_update("code_editor_pages", slug, "users", username, permissions)

    def code_page_user_ruleset_delete(self, slug: str, username: str) -> None:
        self._rs_delete("code_editor_pages", slug, "users", username)

    def code_page_group_ruleset_list(self, slug: str, *, limit: int = 20, offset: int = 0) -> Page[SecurityRuleset]:
        return self._rs_list("code_editor_pages", slug, "groups", limit, offset)

    def code_page_group_ruleset_get(self, slug: str, group_uid: str) -> SecurityRuleset:
        return self._rs_get("code_editor_pages", slug, "groups", group_uid)

    def code_page_group_ruleset_create(self, slug: str, *, group_uid: str, permissions=()) -> SecurityRuleset:
        return self._rs_create("code_editor_pages", slug, "groups", group_uid, permissions)

    def code_page_group_ruleset_update(self, slug: str, group_uid: str, *, permissions=()) -> SecurityRuleset:
        return self._rs_update("code_editor_pages", slug, "groups", group_uid, permissions)

    def code_page_group_ruleset_delete(self, slug: str, group_uid: str) -> None:
        self._rs_delete("code_editor_pages", slug, "groups", group_uid)
