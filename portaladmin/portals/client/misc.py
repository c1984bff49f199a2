"""Datasource connections, metadata templates (and their fields, value suggestions, custom template CRUD), assets.

Reference: https://help.opendatasoft.com/apis/automation/v1.0/ (Datasources connections, Metadata templates, Assets).
"""

from __future__ import annotations

from .schemas import (
    Asset,
    DatasourceConnection,
    MetadataSuggestion,
    MetadataTemplate,
    MetadataTemplateField,
    Page,
)


class MiscMixin:
    def datasource_connection_list(self, *, limit: int = 20, offset: int = 0,
                                   sort: str | None = None) -> Page[DatasourceConnection]:
        return self._page("/datasource_connections/", DatasourceConnection.from_dict, {"sort": sort},
                          limit=limit, offset=offset)

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
