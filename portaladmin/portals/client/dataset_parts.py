"""Everything that hangs off a dataset: resources, metadata, security, processors, fields, schedules,
versions, attachments, alternative exports, feedbacks.

Reference: https://help.opendatasoft.com/apis/automation/v1.0/ (Dataset resources, Dataset metadata, …).
"""

from __future__ import annotations

from typing import Any, BinaryIO

from .schemas import (
    AlternativeExport,
    Attachment,
    Dataset,
    Extractor,
    Feedback,
    FieldConfig,
    MetadataValue,
    Page,
    Processor,
    Resource,
    ResourcePreview,
    Schedule,
    SecurityRuleset,
    UploadedFile,
    Version,
    metadata_fields,
    metadata_templates,
)

OCTET = "application/octet-stream"


def _ruleset_body(target: dict | None, permissions, security: dict | None) -> dict:
    body: dict = dict(target or {})
    body["permissions"] = list(permissions or [])
    if security is not None:
        body["security"] = security
    return body


class ResourcesMixin:
    def resource_list(self, uid: str, *, limit: int = 20, offset: int = 0,
                      expand: str | None = None) -> Page[Resource]:
        return self._page(self.path("datasets", uid, "resources"), Resource.from_dict, {"expand": expand},
                          limit=limit, offset=offset)

    def resource_get(self, uid: str, resource_uid: str, *, expand: str | None = None) -> Resource:
        params = {"expand": expand} if expand else None
        return Resource.from_dict(self._get(self.path("datasets", uid, "resources", resource_uid), params))

    def resource_create(self, uid: str, body: dict) -> Resource:
        return Resource.from_dict(self._post(self.path("datasets", uid, "resources"), body))

    def resource_update(self, uid: str, resource_uid: str, body: dict) -> Resource:
        return Resource.from_dict(self._put(self.path("datasets", uid, "resources", resource_uid), body))

    def resource_delete(self, uid: str, resource_uid: str) -> None:
        self._delete(self.path("datasets", uid, "resources", resource_uid))

    def resource_upload_file(self, uid: str, file: BinaryIO, *, filename: str | None = None,
                             content_type: str = OCTET) -> UploadedFile:
        """Stream an open file (multipart `file` field); the answer is referenced by a resource's datasource."""
        data = self._upload(self.path("datasets", uid, "resources", "files"), file, filename=filename,
                            content_type=content_type)
        return UploadedFile.from_dict(data)

    def resource_preview(self, uid: str, resource_uid: str) -> ResourcePreview:
        return ResourcePreview.from_dict(self._get(self.path("datasets", uid, "resources", resource_uid, "preview")))

    def resource_unsaved_preview(self, uid: str, body: dict) -> ResourcePreview:
        return ResourcePreview.from_dict(self._post(self.path("datasets", uid, "resources", "preview"), body))

    def resource_guess_extractors(self, uid: str, resource_uid: str) -> list[Extractor]:
        data = self._get(self.path("datasets", uid, "resources", resource_uid, "guess_extractors"))
        return [Extractor.from_dict(x) for x in data or []]

    def resource_unsaved_guess_extractors(self, uid: str, *, datasource: dict) -> list[Extractor]:
        data = self._post(self.path("datasets", uid, "resources", "guess_extractors"), {"datasource": datasource})
        return [Extractor.from_dict(x) for x in data or []]

    def extractor_list(self) -> list[Extractor]:
        return [Extractor.from_dict(x) for x in self._get("/extractors/") or []]


class MetadataMixin:
    def metadata_get_all(self, uid: str) -> dict[str, dict[str, MetadataValue]]:
        return metadata_templates(self._get(self.path("datasets", uid, "metadata")))

    def metadata_update_all(self, uid: str, body: dict) -> dict[str, dict[str, MetadataValue]]:
        return metadata_templates(self._put(self.path("datasets", uid, "metadata"), body))

    def metadata_get_template(self, uid: str, template: str) -> dict[str, MetadataValue]:
        return metadata_fields(self._get(self.path("datasets", uid, "metadata", template)))

    def metadata_update_template(self, uid: str, template: str, body: dict) -> dict[str, MetadataValue]:
        return metadata_fields(self._put(self.path("datasets", uid, "metadata", template), body))

    def metadata_get(self, uid: str, template: str, field: str) -> MetadataValue:
        return MetadataValue.from_dict(self._get(self.path("datasets", uid, "metadata", template, field)))

    def metadata_update(self, uid: str, template: str, field: str, *, value: Any,
                        override_remote_value: bool | None = None) -> MetadataValue:
        body: dict = {"value": value}
        if override_remote_value is not None:
            body["override_remote_value"] = override_remote_value
        return MetadataValue.from_dict(self._put(self.path("datasets", uid, "metadata", template, field), body))

    def metadata_delete(self, uid: str, template: str, field: str) -> None:
        self._delete(self.path("datasets", uid, "metadata", template, field))


class DatasetSecurityMixin:
    def dataset_user_ruleset_list(self, uid: str, *, limit: int = 20, offset: int = 0) -> Page[SecurityRuleset]:
        return self._page(self.path("datasets", uid, "security", "users"), SecurityRuleset.from_dict,
                          limit=limit, offset=offset)

    def dataset_user_ruleset_get(self, uid: str, username: str) -> SecurityRuleset:
        return SecurityRuleset.from_dict(self._get(self.path("datasets", uid, "security", "users", username)))

    def dataset_user_ruleset_create(self, uid: str, *, username: str, permissions=(),
                                    security: dict | None = None) -> SecurityRuleset:
        body = _ruleset_body({"user": {"username": username}}, permissions, security)
        return SecurityRuleset.from_dict(self._post(self.path("datasets", uid, "security", "users"), body))

    def dataset_user_ruleset_update(self, uid: str, username: str, *, permissions=(),
                                    security: dict | None = None) -> SecurityRuleset:
        body = _ruleset_body({"user": {"username": username}}, permissions, security)
        return SecurityRuleset.from_dict(self._put(self.path("datasets", uid, "security", "users", username), body))

    def dataset_user_ruleset_delete(self, uid: str, username: str) -> None:
        self._delete(self.path("datasets", uid, "security", "users", username))

    def dataset_group_ruleset_list(self, uid: str, *, limit: int = 20, offset: int = 0) -> Page[SecurityRuleset]:
        return self._page(self.path("datasets", uid, "security", "groups"), SecurityRuleset.from_dict,
                          limit=limit, offset=offset)

    def dataset_group_ruleset_get(self, uid: str, group_uid: str) -> SecurityRuleset:
        return SecurityRuleset.from_dict(self._get(self.path("datasets", uid, "security", "groups", group_uid)))

    def dataset_group_ruleset_create(self, uid: str, *, group_uid: str, permissions=(),
                                     security: dict | None = None) -> SecurityRuleset:
        body = _ruleset_body({"group": {"uid": group_uid}}, permissions, security)
        return SecurityRuleset.from_dict(self._post(self.path("datasets", uid, "security", "groups"), body))

    def dataset_group_ruleset_update(self, uid: str, group_uid: str, *, permissions=(),
                                     security: dict | None = None) -> SecurityRuleset:
        body = _ruleset_body({"group": {"uid": group_uid}}, permissions, security)
        return SecurityRuleset.from_dict(
            self._put(self.path("datasets", uid, "security", "groups", group_uid), body))

    def dataset_group_ruleset_delete(self, uid: str, group_uid: str) -> None:
        self._delete(self.path("datasets", uid, "security", "groups", group_uid))


class ProcessingMixin:
    """Processors, field configurations and dataset schedules."""

    def processor_list(self, uid: str) -> Page[Processor]:
        return self._page_all(self.path("datasets", uid, "processors"), Processor.from_dict)

    def processor_get(self, uid: str, processor_uid: str) -> Processor:
        return Processor.from_dict(self._get(self.path("datasets", uid, "processors", processor_uid)))

    def processor_create(self, uid: str, body: dict) -> Processor:
        return Processor.from_dict(self._post(self.path("datasets", uid, "processors"), body))

    def processor_update(self, uid: str, processor_uid: str, body: dict) -> Processor:
        return Processor.from_dict(self._put(self.path("datasets", uid, "processors", processor_uid), body))

    def processor_delete(self, uid: str, processor_uid: str) -> None:
        self._delete(self.path("datasets", uid, "processors", processor_uid))

    def processor_available(self) -> list[Processor]:
        data = self._get("/processors/")
        items = data.get("results", []) if isinstance(data, dict) else (data or [])
        return [Processor.from_dict(x) for x in items]

    def field_config_list(self, uid: str) -> Page[FieldConfig]:
        return self._page_all(self.path("datasets", uid, "fields"), FieldConfig.from_dict)

    def field_config_get(self, uid: str, field_uid: str) -> FieldConfig:
        return FieldConfig.from_dict(self._get(self.path("datasets", uid, "fields", field_uid)))

    def field_config_create(self, uid: str, body: dict) -> FieldConfig:
        return FieldConfig.from_dict(self._post(self.path("datasets", uid, "fields"), body))

    def field_config_update(self, uid: str, field_uid: str, body: dict) -> FieldConfig:
        return FieldConfig.from_dict(self._put(self.path("datasets", uid, "fields", field_uid), body))

    def field_config_delete(self, uid: str, field_uid: str) -> None:
        self._delete(self.path("datasets", uid, "fields", field_uid))

    def dataset_schedule_list(self, uid: str, *, limit: int = 20, offset: int = 0) -> Page[Schedule]:
        return self._page(self.path("datasets", uid, "schedules"), Schedule.from_dict, limit=limit, offset=offset)

    def dataset_schedule_get(self, uid: str, schedule_uid: str) -> Schedule:
        return Schedule.from_dict(self._get(self.path("datasets", uid, "schedules", schedule_uid)))

    def dataset_schedule_create(self, uid: str, *, cron_schedule: str) -> Schedule:
        return Schedule.from_dict(self._post(self.path("datasets", uid, "schedules"),
                                             {"cron_schedule": cron_schedule}))

    def dataset_schedule_update(self, uid: str, schedule_uid: str, *, cron_schedule: str) -> Schedule:
        return Schedule.from_dict(self._put(self.path("datasets", uid, "schedules", schedule_uid),
                                            {"cron_schedule": cron_schedule}))

    def dataset_schedule_delete(self, uid: str, schedule_uid: str) -> None:
        self._delete(self.path("datasets", uid, "schedules", schedule_uid))


class HistoryMixin:
    """Versions, attachments, alternative exports and feedbacks."""

    def version_list(self, uid: str, *, limit: int = 20, offset: int = 0) -> Page[Version]:
        return self._page(self.path("datasets", uid, "versions"), Version.from_dict, limit=limit, offset=offset)

    def version_get(self, uid: str, version_uid: str) -> Version:
        return Version.from_dict(self._get(self.path("datasets", uid, "versions", version_uid)))

    def version_restore(self, uid: str, version_uid: str) -> Dataset:
        return Dataset.from_dict(self._post(self.path("datasets", uid, "versions", version_uid, "restore")))

    def attachment_list(self, uid: str, *, limit: int = 20, offset: int = 0) -> Page[Attachment]:
        return self._page(self.path("datasets", uid, "attachments"), Attachment.from_dict,
                          limit=limit, offset=offset)

    def attachment_get(self, uid: str, attachment_uid: str) -> Attachment:
        return Attachment.from_dict(self._get(self.path("datasets", uid, "attachments", attachment_uid)))

    def attachment_upload(self, uid: str, file: BinaryIO, *, filename: str | None = None,
                          content_type: str = OCTET) -> Attachment:
        data = self._upload(self.path("datasets", uid, "attachments"), file, filename=filename,
                            content_type=content_type)
        return Attachment.from_dict(data)

    def attachment_delete(self, uid: str, attachment_uid: str) -> None:
        self._delete(self.path("datasets", uid, "attachments", attachment_uid))

    def alternative_export_list(self, uid: str, *, limit: int = 20, offset: int = 0) -> Page[AlternativeExport]:
        return self._page(self.path("datasets", uid, "alternative_exports"), AlternativeExport.from_dict,
                          limit=limit, offset=offset)

    def feedback_list(self, uid: str, *, is_archived: bool | None = None, record_id: str | None = None,
                      sort: str | None = None) -> Page[Feedback]:
        params = {"is_archived": is_archived, "record_id": record_id, "sort": sort}
        return self._page_all(self.path("datasets", uid, "feedbacks"), Feedback.from_dict, params)

    def feedback_archive(self, uid: str, feedback_uid: str) -> Feedback:
        return Feedback.from_dict(self._post(self.path("datasets", uid, "feedbacks", feedback_uid, "archive")))
