"""Datasource connections, metadata templates and assets (read-only listings).

Reference: https://help.opendatasoft.com/apis/automation/v1.0/ (Datasources connections, Metadata templates, Assets).
"""

from __future__ import annotations

from .schemas import Asset, DatasourceConnection, MetadataTemplate, MetadataTemplateField, Page


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

    def asset_list(self, *, limit: int = 20, offset: int = 0) -> Page[Asset]:
        return self._page("/medias/images/", Asset.from_dict, limit=limit, offset=offset)
