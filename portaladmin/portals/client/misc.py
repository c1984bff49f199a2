"""Datasource connections (and who may use them), metadata templates (and their fields, value suggestions,
custom template CRUD), assets.

Datasource connections carry secrets (passwords, tokens): they go out in create/update bodies and never come
back (`DatasourceConnection` drops them even if a portal echoes them).

Reference: https://help.opendatasoft.com/apis/automation/v1.0/ (Datasources connections, Metadata templates, Assets).
"""

from __future__ import annotations

from collections.abc import Iterator

from .pages import _RulesetsMixin
from .schemas import (
    Asset,
    DatasourceConnection,
    MetadataSuggestion,
    MetadataTemplate,
    MetadataTemplateField,
    Page,
    SecurityRuleset,
)

DSC = "datasource_connections"


class MiscMixin(_RulesetsMixin):
    def datasource_connection_list(self, *, limit: int = 20, offset: int = 0,
                                   sort: str | None = None) -> Page[DatasourceConnection]:
        return self._page("/datasource_connections/", DatasourceConnection.from_dict, {"sort": sort},
                          limit=limit, offset=offset)

    def datasource_connection_iter(self, *, sort: str | None = None,
                                   page_size: int = 1000) -> Iterator[DatasourceConnection]:
        return self._iter("/datasource_connections/", DatasourceConnection.from_dict, {"sort": sort},
                          page_size=page_size)

    def datasource_connection_get(self, connection_uid: str) -> DatasourceConnection:
        return DatasourceConnection.from_dict(self._get(self.path("datasource_connections", connection_uid)))

    def datasource_connection_create(self, body: dict) -> DatasourceConnection:
        """`body` as in the spec's Connection schemas (`type` + its fields, e.g. url, auth)."""
        return DatasourceConnection.from_dict(self._post("/datasource_connections/", body))

    def datasource_connection_update(self, connection_uid: str, body: dict) -> DatasourceConnection:
        """A body without `auth` leaves the stored credentials as they are (GUESS for real portals)."""
        return DatasourceConnection.from_dict(self._put(self.path("datasource_connections", connection_uid), body))

    def datasource_connection_delete(self, connection_uid: str) -> None:
        self._delete(self.path("datasource_connections", connection_uid))

    # Who may use a datasource connection (permissions ⊂ manage_connection: share, edit, remove it).
    def datasource_connection_user_ruleset_list(self, connection_uid: str, *, limit: int = 20,
                                                offset: int = 0) -> Page[SecurityRuleset]:
        return self._rs_list(DSC, connection_uid, "users", limit, offset)

    def datasource_connection_user_ruleset_get(self, connection_uid: str, username: str) -> SecurityRuleset:
        return self._rs_get(DSC, connection_uid, "users", username)

    def datasource_connection_user_ruleset_create(self, connection_uid: str, *, username: str,
                                                  permissions=()) -> SecurityRuleset:
        return self._rs_create(DSC, connection_uid, "users", username, permissions)

    def datasource_connection_user_ruleset_update(self, connection_uid: str, username: str, *,
                                                  permissions=()) -> SecurityRuleset:
        return self._rs_update(DSC, connection_uid, "users", username, permissions)

    def datasource_connection_user_ruleset_delete(self, connection_uid: str, username: str) -> None:
        self._rs_delete(DSC, connection_uid, "users", username)

    def datasource_connection_group_ruleset_list(self, connection_uid: str, *, limit: int = 20,
                                                 offset: int = 0) -> Page[SecurityRuleset]:
        return self._rs_list(DSC, connection_uid, "groups", limit, offset)

    def datasource_connection_group_ruleset_get(self, connection_uid: str, group_uid: str) -> SecurityRuleset:
        return self._rs_get(DSC, connection_uid, "groups", group_uid)

    def datasource_connection_group_ruleset_create(self, connection_uid: str, *, group_uid: str,
                                                   permissions=()) -> SecurityRuleset:
        return self._rs_create(DSC, connection_uid, "groups", group_uid, permissions)

    def datasource_connection_group_ruleset_update(self, connection_uid: str, group_uid: str, *,
                                                   permissions=()) -> SecurityRuleset:
        return self._rs_update(DSC, connection_uid, "groups", group_uid, permissions)

    def datasource_connection_group_ruleset_delete(self, connection_uid: str, group_uid: str) -> None:
        self._rs_delete(DSC, connection_uid, "groups", group_uid)

    def metadata_template_list(self, *, type: str | None = None, is_active: bool | None = None,
                               limit: int = 20, offset: int = 0) -> Page[MetadataTemplate]:
        return self._page("/metadata/templates/", MetadataTemplate.from_dict,
                          {"type": type, "is_active": is_active}, limit=limit, offset=offset)

    def metadata_template_fields(self, name: str, *, limit: int = 20,
                                 offset: int = 0) -> Page[MetadataTemplateField]:
        return self._page(self.path("metadata", "templates", name, "fields"), MetadataTemplateField.from_dict,
                          limit=limit, offset=offset)

    def metadata_template_get(self, name: str) -> MetadataTemplate:
        return MetadataTemplate.from_dict(self._get(self.path("metadata", "templates", name)))

    def metadata_template_create(self, body: dict) -> MetadataTemplate:
        """body: name, title, type (basic or admin), is_active, schema (a list of fields)."""
        return MetadataTemplate.from_dict(self._post("/metadata/templates/", body))

    def metadata_template_update(self, name: str, body: dict) -> MetadataTemplate:
        return MetadataTemplate.from_dict(self._put(self.path("metadata", "templates", name), body))

    def metadata_template_delete(self, name: str) -> None:
        self._delete(self.path("metadata", "templates", name))

    def metadata_template_field_get(self, name: str, field: str) -> MetadataTemplateField:
        return MetadataTemplateField.from_dict(self._get(self.path("metadata", "templates", name, "fields", field)))

    def metadata_template_field_suggest(self, name: str, field: str, *, query: str = "",
                                        count: int = 10) -> MetadataSuggestion:
        """Values already used for this field on the portal's datasets, matching `query`."""
        return MetadataSuggestion.from_dict(self._get(self.path("metadata", "templates", name, "fields", field,
                                                                "suggest"), {"query": query, "count": count}))

    def asset_list(self, *, limit: int = 20, offset: int = 0) -> Page[Asset]:
        return self._page("/medias/images/", Asset.from_dict, limit=limit, offset=offset)
