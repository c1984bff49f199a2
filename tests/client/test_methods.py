"""Every PortalClient method against a `responses` portal: the request it sends (method, path, query,
JSON body) and the canned answer are both checked against the OpenAPI spec, and the typed result."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from portaladmin.portals.client import schemas as s
from tests.client import payloads as p
from tests.client.conftest import split_call
from tests.oracle import requires_spec

UNSET = object()


@dataclass
class Case:
    name: str  # the PortalClient method under test
    call: Callable[[Any], Any]
    method: str
    path: str
    body: Any = None  # canned answer
    status: int = 200
    query: dict[str, list[str]] = field(default_factory=dict)
    sent: Any = UNSET  # expected JSON body sent (UNSET: none)
    check: Callable[[Any], bool] = lambda result: True
    id: str = ""


D = "/datasets/da_abc123"

CASES = [
    # ---- datasets
    Case("dataset_list", lambda c: c.dataset_list(), "GET", "/datasets/", p.page([p.DATASET], total=2),
         query={"limit": ["20"], "offset": ["0"]},
         check=lambda r: r.total_count == 2 and isinstance(r.results[0], s.Dataset) and r.results[0].title == "Trees of Paris"),
    Case("dataset_list", lambda c: c.dataset_list(limit=5, offset=10, dataset_id="trees-of-paris"), "GET", "/datasets/",
         p.page([p.DATASET]), query={"limit": ["5"], "offset": ["10"], "dataset_id": ["trees-of-paris"]},
         id="dataset_list-filtered"),
    Case("dataset_count", lambda c: c.dataset_count(), "GET", "/datasets/", p.page([], total=502),
         query={"limit": ["0"]}, check=lambda r: r == 502),
    Case("dataset_lookup", lambda c: c.dataset_lookup("trees-of-paris"), "GET", "/datasets/", p.page([p.DATASET]),
         query={"limit": ["10"], "offset": ["0"], "dataset_id": ["trees-of-paris"]},
         check=lambda r: r.uid == "da_abc123"),
    Case("dataset_lookup", lambda c: c.dataset_lookup("nope"), "GET", "/datasets/", p.page([]),
         query={"limit": ["10"], "offset": ["0"], "dataset_id": ["nope"]}, check=lambda r: r is None,
         id="dataset_lookup-missing"),
    Case("dataset_create", lambda c: c.dataset_create(dataset_id="trees-of-paris", metadata=p.METADATA),
         "POST", "/datasets/", p.DATASET, status=201,
         sent={"dataset_id": "trees-of-paris", "is_restricted": False, "metadata": p.METADATA},
         check=lambda r: r.dataset_id == "trees-of-paris"),
    Case("dataset_get", lambda c: c.dataset_get("da_abc123"), "GET", D + "/", p.DATASET,
         check=lambda r: r.is_published is True and r.raw["uid"] == "da_abc123"),
    Case("dataset_update", lambda c: c.dataset_update("da_abc123", {"dataset_id": "trees-of-paris", "metadata": p.METADATA}),
         "PUT", D + "/", p.DATASET, sent={"dataset_id": "trees-of-paris", "metadata": p.METADATA},
         check=lambda r: isinstance(r, s.Dataset)),
    Case("dataset_delete", lambda c: c.dataset_delete("da_abc123"), "DELETE", D + "/", status=204,
         check=lambda r: r is None),
    Case("dataset_publish", lambda c: c.dataset_publish("da_abc123"), "POST", D + "/publish/", p.OK,
         check=lambda r: r is None),
    Case("dataset_publish_metadata", lambda c: c.dataset_publish_metadata("da_abc123"), "POST",
         D + "/publish_metadata/", p.OK),
    Case("dataset_unpublish", lambda c: c.dataset_unpublish("da_abc123"), "POST", D + "/unpublish/", p.OK),
    Case("dataset_abort", lambda c: c.dataset_abort("da_abc123"), "POST", D + "/abort/", p.OK),
    Case("dataset_copy", lambda c: c.dataset_copy("da_abc123"), "POST", D + "/copy/", p.DATASET_2, status=201,
         check=lambda r: r.uid == "da_def456"),
    Case("dataset_status", lambda c: c.dataset_status("da_abc123"), "GET", D + "/status/", p.STATUS_ERROR,
         check=lambda r: r.is_failure and r.records_errors[0].field_uid == "height"),
    # ---- resources
    Case("resource_list", lambda c: c.resource_list("da_abc123", expand="datasource.connection"), "GET",
         D + "/resources/", p.page([p.RESOURCE]),
         query={"limit": ["20"], "offset": ["0"], "expand": ["datasource.connection"]},
         check=lambda r: r.results[0].datasource["type"] == "uploaded_file"),
    Case("resource_get", lambda c: c.resource_get("da_abc123", "re_abc"), "GET", D + "/resources/re_abc/",
         p.RESOURCE, check=lambda r: r.title == "Trees CSV"),
    Case("resource_create", lambda c: c.resource_create("da_abc123", {"type": "csvfile", "title": "Trees CSV",
                                                                      "datasource": p.RESOURCE["datasource"]}),
         "POST", D + "/resources/", p.RESOURCE, status=201,
         sent={"type": "csvfile", "title": "Trees CSV", "datasource": p.RESOURCE["datasource"]}),
    Case("resource_update", lambda c: c.resource_update("da_abc123", "re_abc", {"type": "csvfile", "title": "T2",
                                                                                "datasource": p.RESOURCE["datasource"]}),
         "PUT", D + "/resources/re_abc/", p.RESOURCE,
         sent={"type": "csvfile", "title": "T2", "datasource": p.RESOURCE["datasource"]}),
    Case("resource_delete", lambda c: c.resource_delete("da_abc123", "re_abc"), "DELETE", D + "/resources/re_abc/",
         status=204),
    Case("resource_preview", lambda c: c.resource_preview("da_abc123", "re_abc"), "GET",
         D + "/resources/re_abc/preview/", p.RESOURCE_PREVIEW, check=lambda r: r.records == [{"height": 12.5}]),
    Case("resource_unsaved_preview", lambda c: c.resource_unsaved_preview(
        "da_abc123", {"type": "csvfile", "datasource": p.RESOURCE["datasource"]}),
         "POST", D + "/resources/preview/", p.RESOURCE_PREVIEW,
         sent={"type": "csvfile", "datasource": p.RESOURCE["datasource"]},
         check=lambda r: r.fields[0]["name"] == "height"),
    Case("resource_guess_extractors", lambda c: c.resource_guess_extractors("da_abc123", "re_abc"), "GET",
         D + "/resources/re_abc/guess_extractors/", [p.EXTRACTOR], check=lambda r: r[0].type == "csvfile"),
    Case("resource_unsaved_guess_extractors", lambda c: c.resource_unsaved_guess_extractors(
        "da_abc123", datasource=p.RESOURCE["datasource"]),
         "POST", D + "/resources/guess_extractors/", [p.EXTRACTOR], sent={"datasource": p.RESOURCE["datasource"]},
         check=lambda r: r[0].label == "CSV"),
    Case("extractor_list", lambda c: c.extractor_list(), "GET", "/extractors/", [p.EXTRACTOR],
         check=lambda r: isinstance(r[0], s.Extractor)),
    # ---- metadata
    Case("metadata_get_all", lambda c: c.metadata_get_all("da_abc123"), "GET", D + "/metadata/", p.METADATA,
         check=lambda r: r["default"]["title"].value == "Trees of Paris"),
    Case("metadata_update_all", lambda c: c.metadata_update_all("da_abc123", p.METADATA), "PUT", D + "/metadata/",
         p.METADATA, sent=p.METADATA, check=lambda r: r["default"]["language"].value == "en"),
    Case("metadata_get_template", lambda c: c.metadata_get_template("da_abc123", "default"), "GET",
         D + "/metadata/default/", p.METADATA["default"], check=lambda r: r["modified"].value == p.TS),
    Case("metadata_update_template", lambda c: c.metadata_update_template("da_abc123", "default", p.METADATA["default"]),
         "PUT", D + "/metadata/default/", p.METADATA["default"], sent=p.METADATA["default"]),
    Case("metadata_get", lambda c: c.metadata_get("da_abc123", "default", "title"), "GET",
         D + "/metadata/default/title/", p.METADATA_VALUE, check=lambda r: r.value == "Trees of Paris"),
    Case("metadata_update", lambda c: c.metadata_update("da_abc123", "default", "title", value="New title"),
         "PUT", D + "/metadata/default/title/", {"value": "New title"}, sent={"value": "New title"},
         check=lambda r: r.value == "New title"),
    Case("metadata_update", lambda c: c.metadata_update("da_abc123", "default", "title", value="X",
                                                        override_remote_value=True),
         "PUT", D + "/metadata/default/title/", {"value": "X", "override_remote_value": True},
         sent={"value": "X", "override_remote_value": True}, id="metadata_update-override"),
    Case("metadata_delete", lambda c: c.metadata_delete("da_abc123", "default", "title"), "DELETE",
         D + "/metadata/default/title/", status=204),
    # ---- dataset security
    Case("dataset_user_ruleset_list", lambda c: c.dataset_user_ruleset_list("da_abc123"), "GET",
         D + "/security/users/", p.page([p.USER_RULESET]), query={"limit": ["20"], "offset": ["0"]},
         check=lambda r: r.results[0].username == "louise.data" and r.results[0].kind == "user"),
    Case("dataset_user_ruleset_get", lambda c: c.dataset_user_ruleset_get("da_abc123", "louise.data"), "GET",
         D + "/security/users/louise.data/", p.USER_RULESET, check=lambda r: r.permissions == ["edit_dataset"]),
    Case("dataset_user_ruleset_create", lambda c: c.dataset_user_ruleset_create(
        "da_abc123", username="louise.data", permissions=["edit_dataset"], security={"is_data_visible": True}),
         "POST", D + "/security/users/", p.USER_RULESET, status=201,
         sent={"user": {"username": "louise.data"}, "permissions": ["edit_dataset"],
               "security": {"is_data_visible": True}}),
    Case("dataset_user_ruleset_update", lambda c: c.dataset_user_ruleset_update(
        "da_abc123", "louise.data", permissions=["edit_dataset"]),
         "PUT", D + "/security/users/louise.data/", p.USER_RULESET,
         sent={"user": {"username": "louise.data"}, "permissions": ["edit_dataset"]}),
    Case("dataset_user_ruleset_delete", lambda c: c.dataset_user_ruleset_delete("da_abc123", "louise.data"),
         "DELETE", D + "/security/users/louise.data/", status=204),
    Case("dataset_group_ruleset_list", lambda c: c.dataset_group_ruleset_list("da_abc123", limit=50), "GET",
         D + "/security/groups/", p.page([p.GROUP_RULESET]), query={"limit": ["50"], "offset": ["0"]},
         check=lambda r: r.results[0].group_uid == "content_designers" and r.results[0].target == "content_designers"),
    Case("dataset_group_ruleset_get", lambda c: c.dataset_group_ruleset_get("da_abc123", "content_designers"),
         "GET", D + "/security/groups/content_designers/", p.GROUP_RULESET, check=lambda r: r.kind == "group"),
    Case("dataset_group_ruleset_create", lambda c: c.dataset_group_ruleset_create(
        "da_abc123", group_uid="content_designers", permissions=["publish_dataset"]),
         "POST", D + "/security/groups/", p.GROUP_RULESET, status=201,
         sent={"group": {"uid": "content_designers"}, "permissions": ["publish_dataset"]}),
    Case("dataset_group_ruleset_update", lambda c: c.dataset_group_ruleset_update(
        "da_abc123", "content_designers", permissions=[]),
         "PUT", D + "/security/groups/content_designers/", p.GROUP_RULESET,
         sent={"group": {"uid": "content_designers"}, "permissions": []}),
    Case("dataset_group_ruleset_delete", lambda c: c.dataset_group_ruleset_delete("da_abc123", "content_designers"),
         "DELETE", D + "/security/groups/content_designers/", status=204),
    # ---- processors, fields, schedules
    Case("processor_list", lambda c: c.processor_list("da_abc123"), "GET", D + "/processors/",
         p.page([p.PROCESSOR]), check=lambda r: r.results[0].type == "replace"),
    Case("processor_get", lambda c: c.processor_get("da_abc123", "pr_abc"), "GET", D + "/processors/pr_abc/",
         p.PROCESSOR, check=lambda r: r.label == "Replace text"),
    Case("processor_create", lambda c: c.processor_create("da_abc123", {"type": "replace", "label": "Replace text"}),
         "POST", D + "/processors/", p.PROCESSOR, status=201, sent={"type": "replace", "label": "Replace text"}),
    Case("processor_update", lambda c: c.processor_update("da_abc123", "pr_abc", {"type": "replace", "label": "R"}),
         "PUT", D + "/processors/pr_abc/", p.PROCESSOR, sent={"type": "replace", "label": "R"}),
    Case("processor_delete", lambda c: c.processor_delete("da_abc123", "pr_abc"), "DELETE",
         D + "/processors/pr_abc/", status=204),
    Case("processor_available", lambda c: c.processor_available(), "GET", "/processors/", [p.PROCESSOR],
         check=lambda r: r[0].uid == "pr_abc"),
    Case("field_config_list", lambda c: c.field_config_list("da_abc123"), "GET", D + "/fields/",
         p.page([p.FIELD_CONFIG]), check=lambda r: r.results[0].field == "h"),
    Case("field_config_get", lambda c: c.field_config_get("da_abc123", "fc_abc"), "GET", D + "/fields/fc_abc/",
         p.FIELD_CONFIG, check=lambda r: r.type == "rename"),
    Case("field_config_create", lambda c: c.field_config_create("da_abc123", {
        "type": "rename", "label": "Rename", "from_name": "h", "to_name": "height", "field_label": "Height"}),
         "POST", D + "/fields/", p.FIELD_CONFIG, status=201,
         sent={"type": "rename", "label": "Rename", "from_name": "h", "to_name": "height", "field_label": "Height"}),
    Case("field_config_update", lambda c: c.field_config_update("da_abc123", "fc_abc", {"type": "rename", "label": "R"}),
         "PUT", D + "/fields/fc_abc/", p.FIELD_CONFIG, sent={"type": "rename", "label": "R"}),
    Case("field_config_delete", lambda c: c.field_config_delete("da_abc123", "fc_abc"), "DELETE",
         D + "/fields/fc_abc/", status=204),
    Case("dataset_schedule_list", lambda c: c.dataset_schedule_list("da_abc123"), "GET", D + "/schedules/",
         p.page([p.DATASET_SCHEDULE]), query={"limit": ["20"], "offset": ["0"]},
         check=lambda r: r.results[0].cron_schedule == "0 3 * * *" and r.results[0].timezone is None),
    Case("dataset_schedule_get", lambda c: c.dataset_schedule_get("da_abc123", "sc_abc"), "GET",
         D + "/schedules/sc_abc/", p.DATASET_SCHEDULE, check=lambda r: r.uid == "sc_abc"),
    Case("dataset_schedule_create", lambda c: c.dataset_schedule_create("da_abc123", cron_schedule="0 3 * * *"),
         "POST", D + "/schedules/", p.DATASET_SCHEDULE, status=201, sent={"cron_schedule": "0 3 * * *"}),
    Case("dataset_schedule_update", lambda c: c.dataset_schedule_update("da_abc123", "sc_abc", cron_schedule="0 3 * * *"),
         "PUT", D + "/schedules/sc_abc/", p.DATASET_SCHEDULE, sent={"cron_schedule": "0 3 * * *"}),
    Case("dataset_schedule_delete", lambda c: c.dataset_schedule_delete("da_abc123", "sc_abc"), "DELETE",
         D + "/schedules/sc_abc/", status=204),
    # ---- versions, attachments, exports, feedbacks
    Case("version_list", lambda c: c.version_list("da_abc123"), "GET", D + "/versions/", p.page([p.VERSION]),
         query={"limit": ["20"], "offset": ["0"]}, check=lambda r: r.results[0].created_by == "louise.data"),
    Case("version_get", lambda c: c.version_get("da_abc123", "ch_abc"), "GET", D + "/versions/ch_abc/", p.VERSION,
         check=lambda r: r.can_restore is True),
    Case("version_restore", lambda c: c.version_restore("da_abc123", "ch_abc"), "POST",
         D + "/versions/ch_abc/restore/", p.DATASET, check=lambda r: r.uid == "da_abc123"),
    Case("attachment_list", lambda c: c.attachment_list("da_abc123"), "GET", D + "/attachments/",
         p.page([p.ATTACHMENT]), query={"limit": ["20"], "offset": ["0"]},
         check=lambda r: r.results[0].filename == "notes.pdf"),
    Case("attachment_get", lambda c: c.attachment_get("da_abc123", "at_abc"), "GET", D + "/attachments/at_abc/",
         p.ATTACHMENT, check=lambda r: r.mimetype == "application/pdf"),
    Case("attachment_delete", lambda c: c.attachment_delete("da_abc123", "at_abc"), "DELETE",
         D + "/attachments/at_abc/", status=204),
    Case("alternative_export_list", lambda c: c.alternative_export_list("da_abc123"), "GET",
         D + "/alternative_exports/", p.page([p.ALTERNATIVE_EXPORT]), query={"limit": ["20"], "offset": ["0"]},
         check=lambda r: r.results[0].title == "Shapefile"),
    Case("feedback_list", lambda c: c.feedback_list("da_abc123", is_archived=False), "GET", D + "/feedbacks/",
         p.page([p.FEEDBACK]), query={"is_archived": ["false"]},
         check=lambda r: r.results[0].username == "louise.data" and r.results[0].is_archived is False),
    Case("feedback_archive", lambda c: c.feedback_archive("da_abc123", "df_abc"), "POST",
         D + "/feedbacks/df_abc/archive/", {**p.FEEDBACK, "is_archived": True}, check=lambda r: r.is_archived),
    # ---- harvesters
    Case("harvester_list", lambda c: c.harvester_list(), "GET", "/harvesters/", p.page([p.HARVESTER]),
         query={"limit": ["20"], "offset": ["0"]}, check=lambda r: r.results[0].is_idle),
    Case("harvester_count", lambda c: c.harvester_count(), "GET", "/harvesters/", p.page([], total=7),
         query={"limit": ["0"]}, check=lambda r: r == 7),
    Case("harvester_get", lambda c: c.harvester_get("hrv_ods"), "GET", "/harvesters/hrv_ods/", p.HARVESTER_PROCESSING,
         check=lambda r: r.is_busy and r.harvested_datasets_count == 9 and r.resource_errors_count == 1),
    Case("harvester_create", lambda c: c.harvester_create({"type": "ods", "name": "Neighbour portal",
                                                            "domain": "neighbour"}),
         "POST", "/harvesters/", p.HARVESTER, status=201,
         sent={"type": "ods", "name": "Neighbour portal", "domain": "neighbour"}),
    Case("harvester_update", lambda c: c.harvester_update("hrv_ods", {"type": "ods", "name": "N2", "domain": "n"}),
         "PUT", "/harvesters/hrv_ods/", p.HARVESTER, sent={"type": "ods", "name": "N2", "domain": "n"}),
    Case("harvester_delete", lambda c: c.harvester_delete("hrv_ods", delete_attached_datasets=False), "DELETE",
         "/harvesters/hrv_ods/", status=204, query={"delete_attached_datasets": ["false"]}),
    Case("harvester_delete", lambda c: c.harvester_delete("hrv_ods", delete_attached_datasets=True), "DELETE",
         "/harvesters/hrv_ods/", status=204, query={"delete_attached_datasets": ["true"]}, id="harvester_delete-true"),
    Case("harvester_start", lambda c: c.harvester_start("hrv_ods"), "POST", "/harvesters/hrv_ods/start/",
         p.HARVESTER_PROCESSING, check=lambda r: r.status == "processing"),
    Case("harvester_abort", lambda c: c.harvester_abort("hrv_ods"), "POST", "/harvesters/hrv_ods/abort/",
         {**p.HARVESTER, "status": "aborting"}, check=lambda r: r.is_busy),
    Case("harvester_publish", lambda c: c.harvester_publish("hrv_ods"), "POST", "/harvesters/hrv_ods/publish/", p.OK),
    Case("harvester_unpublish", lambda c: c.harvester_unpublish("hrv_ods"), "POST",
         "/harvesters/hrv_ods/unpublish/", p.OK),
    Case("harvester_errors", lambda c: c.harvester_errors("hrv_ods"), "GET", "/harvesters/hrv_ods/errors/",
         p.HARVESTER_ERRORS, check=lambda r: r.has_errors and r.harvester is None and "remote-1" in r.resources),
    Case("harvester_preview", lambda c: c.harvester_preview("hrv_ods"), "GET", "/harvesters/hrv_ods/preview/",
         p.HARVESTER_PREVIEW, check=lambda r: r.total_count == 1 and r.results[0]["id"] == "remote-1"),
    Case("harvester_unsaved_preview", lambda c: c.harvester_unsaved_preview(
        "hrv_ods", {"type": "ods", "name": "Neighbour portal", "domain": "other"}),
         "POST", "/harvesters/hrv_ods/unsaved_preview/", p.HARVESTER_PREVIEW,
         sent={"type": "ods", "name": "Neighbour portal", "domain": "other"}),
    Case("harvester_schedule_list", lambda c: c.harvester_schedule_list("hrv_ods"), "GET",
         "/harvesters/hrv_ods/schedules/", p.page([p.HARVESTER_SCHEDULE]), query={"limit": ["20"], "offset": ["0"]},
         check=lambda r: r.results[0].timezone == "Europe/Paris"),
    Case("harvester_schedule_get", lambda c: c.harvester_schedule_get("hrv_ods", "sc_hrv"), "GET",
         "/harvesters/hrv_ods/schedules/sc_hrv/", p.HARVESTER_SCHEDULE),
    Case("harvester_schedule_create", lambda c: c.harvester_schedule_create(
        "hrv_ods", cron_schedule="0 4 * * 1", timezone="Europe/Paris"),
         "POST", "/harvesters/hrv_ods/schedules/", p.HARVESTER_SCHEDULE, status=201,
         sent={"cron_schedule": "0 4 * * 1", "timezone": "Europe/Paris"}),
    Case("harvester_schedule_update", lambda c: c.harvester_schedule_update("hrv_ods", "sc_hrv", cron_schedule="0 5 * * 1"),
         "PUT", "/harvesters/hrv_ods/schedules/sc_hrv/", p.HARVESTER_SCHEDULE,
         sent={"cron_schedule": "0 5 * * 1", "timezone": "UTC"}),
    Case("harvester_schedule_delete", lambda c: c.harvester_schedule_delete("hrv_ods", "sc_hrv"), "DELETE",
         "/harvesters/hrv_ods/schedules/sc_hrv/", status=204),
    # ---- users
    Case("user_list", lambda c: c.user_list(search="lou", sort=["username", "last_name"],
                                            permissions=["edit_dataset", "publish_dataset"],
                                            all_permissions="create_dataset", limit=100, offset=200),
         "GET", "/users/", p.page([p.USER]),
         query={"search": ["lou"], "sort": ["username", "last_name"], "permissions": ["edit_dataset", "publish_dataset"],
                "all_permissions": ["create_dataset"], "limit": ["100"], "offset": ["200"]},
         check=lambda r: r.results[0].username == "louise.data"),
    Case("user_count", lambda c: c.user_count(permissions="edit_dataset"), "GET", "/users/", p.page([], total=12),
         query={"permissions": ["edit_dataset"], "limit": ["0"]}, check=lambda r: r == 12),
    Case("user_get", lambda c: c.user_get("louise.data"), "GET", "/users/louise.data/", p.USER,
         check=lambda r: r.email == "louise@example.org" and r.groups == []),
    Case("user_update", lambda c: c.user_update("louise.data", {"email": "louise@example.org", "first_name": "L"}),
         "PUT", "/users/louise.data/", p.USER, sent={"email": "louise@example.org", "first_name": "L"}),
    Case("user_delete", lambda c: c.user_delete("louise.data"), "DELETE", "/users/louise.data/", status=204),
    Case("user_invite", lambda c: c.user_invite([{"email": "louise@example.org"}, {"email": "bad"}]), "POST",
         "/users/invite/", p.INVITE_RESULT, sent=[{"email": "louise@example.org"}, {"email": "bad"}],
         check=lambda r: [x.ok for x in r] == [True, False] and r[0].user.username == "louise.data"
         and "valid email" in r[1].message),
    Case("user_provision", lambda c: c.user_provision({"email": "louise@example.org", "username": "louise.data",
                                                       "identity_provider": {"uid": "opendatasoft"}}),
         "POST", "/users/provision/", {"0": {"status_code": "success", "data": p.USER}},
         sent={"email": "louise@example.org", "username": "louise.data", "identity_provider": {"uid": "opendatasoft"}},
         check=lambda r: r[0].ok and r[0].index == 0),
    # ---- groups
    Case("group_list", lambda c: c.group_list(search="content", sort="user_count", permissions=["edit_page"]),
         "GET", "/groups/", p.page([p.GROUP]),
         query={"search": ["content"], "sort": ["user_count"], "permissions": ["edit_page"], "limit": ["20"],
                "offset": ["0"]}, check=lambda r: r.results[0].user_count == 3),
    Case("group_count", lambda c: c.group_count(), "GET", "/groups/", p.page([], total=4), query={"limit": ["0"]},
         check=lambda r: r == 4),
    Case("group_get", lambda c: c.group_get("content_designers"), "GET", "/groups/content_designers/", p.GROUP,
         check=lambda r: r.title == "Content designers"),
    Case("group_create", lambda c: c.group_create(title="Content designers", description="They design content",
                                                  permissions=["edit_page"]),
         "POST", "/groups/", p.GROUP, status=201,
         sent={"title": "Content designers", "description": "They design content", "permissions": ["edit_page"]}),
    Case("group_update", lambda c: c.group_update("content_designers", {"uid": "content_designers", "title": "CD"}),
         "PUT", "/groups/content_designers/", p.GROUP, sent={"uid": "content_designers", "title": "CD"}),
    Case("group_delete", lambda c: c.group_delete("content_designers"), "DELETE", "/groups/content_designers/",
         status=204),
    Case("group_member_list", lambda c: c.group_member_list("content_designers"), "GET",
         "/groups/content_designers/users/", p.page([p.USER, p.USER_2]), check=lambda r: len(r) == 2),
    Case("group_member_add", lambda c: c.group_member_add("content_designers", "louise.data"), "POST",
         "/groups/content_designers/users/", p.USER, status=201, sent={"username": "louise.data"},
         check=lambda r: r.username == "louise.data"),
    Case("group_member_batch_add", lambda c: c.group_member_batch_add("content_designers", ["louise.data", "ghost"]),
         "POST", "/groups/content_designers/users/batch/", p.BATCH_RESULT,
         sent=[{"username": "louise.data"}, {"username": "ghost"}],
         check=lambda r: r[0].ok and not r[1].ok and r[1].message == "User not found"),
    Case("group_member_remove", lambda c: c.group_member_remove("content_designers", "louise.data"), "DELETE",
         "/groups/content_designers/users/louise.data/", status=204),
    # ---- API keys
    Case("apikey_list", lambda c: c.apikey_list(), "GET", "/apikeys/", p.page([p.APIKEY]),
         query={"limit": ["20"], "offset": ["0"]}, check=lambda r: r.results[0].username == "louise.data"),
    Case("apikey_create", lambda c: c.apikey_create(label="CI key", permissions=["edit_dataset"]), "POST",
         "/apikeys/", p.APIKEY_CREATED, status=201, sent={"label": "CI key", "permissions": ["edit_dataset"]},
         check=lambda r: r.key == p.APIKEY_CREATED["key"] and p.APIKEY_CREATED["key"] not in repr(r)),
    Case("apikey_revoke", lambda c: c.apikey_revoke("ak_abc", reason="leaked"), "POST", "/apikeys/ak_abc/revoke/",
         p.APIKEY_REVOKED, sent={"reason": "leaked"}, check=lambda r: r.revocation_status["revocation_reason"] == "leaked"),
    Case("apikey_get", lambda c: c.apikey_get("ak_abc", expand="user"), "GET", "/apikeys/ak_abc/", p.APIKEY,
         query={"expand": ["user"]}, check=lambda r: r.uid == "ak_abc" and r.is_revoked is False),
    Case("apikey_update", lambda c: c.apikey_update("ak_abc", label="CI", permissions=["publish_dataset"]), "PUT",
         "/apikeys/ak_abc/", {**p.APIKEY, "label": "CI", "permissions": ["publish_dataset"]},
         sent={"label": "CI", "permissions": ["publish_dataset"]}, check=lambda r: r.permissions == ["publish_dataset"]),
    Case("apikey_update", lambda c: c.apikey_update("ak_abc", label="CI"), "PUT", "/apikeys/ak_abc/",
         {**p.APIKEY, "label": "CI"}, sent={"label": "CI"}, check=lambda r: r.label == "CI", id="apikey_update-label"),
    Case("apikey_search", lambda c: c.apikey_search("the-secret-0123456789"), "POST", "/apikeys/search_key/",
         p.APIKEY_SEARCH_FOUND, sent={"key": "the-secret-0123456789"},
         check=lambda r: r.is_revoked and r.revoked_at and r.revocation_reason == "old" and r.username == "louise.data"),
    Case("apikey_search", lambda c: c.apikey_search("unknown-secret-0123456789"), "POST", "/apikeys/search_key/",
         p.APIKEY_SEARCH_MISSING, sent={"key": "unknown-secret-0123456789"}, check=lambda r: r is None,
         id="apikey_search-missing"),
    # ---- studio pages
    Case("studio_page_list", lambda c: c.studio_page_list(), "GET", "/studio_pages/", p.page([p.STUDIO_PAGE]),
         query={"limit": ["20"], "offset": ["0"]}, check=lambda r: r.results[0].created_by == "louise.data"),
    Case("studio_page_get", lambda c: c.studio_page_get("sp_abc"), "GET", "/studio_pages/sp_abc/", p.STUDIO_PAGE,
         check=lambda r: r.slug == "welcome" and r.public is True),
    Case("studio_page_create", lambda c: c.studio_page_create({"slug": "welcome", "public": False}), "POST",
         "/studio_pages/", p.STUDIO_PAGE, status=201, sent={"slug": "welcome", "public": False}),
    Case("studio_page_update", lambda c: c.studio_page_update("sp_abc", {"slug": "welcome2"}), "PUT",
         "/studio_pages/sp_abc/", p.STUDIO_PAGE, sent={"slug": "welcome2"}),
    Case("studio_page_delete", lambda c: c.studio_page_delete("sp_abc"), "DELETE", "/studio_pages/sp_abc/",
         status=204),
    Case("studio_page_publish", lambda c: c.studio_page_publish("sp_abc"), "POST", "/studio_pages/sp_abc/publish/",
         p.OK),
    Case("studio_page_unpublish", lambda c: c.studio_page_unpublish("sp_abc"), "POST",
         "/studio_pages/sp_abc/unpublish/", p.OK),
]


def _ruleset_cases(prefix: str, coll: str, key: str, perm: str = "edit_page") -> list[Case]:
    base = f"/{coll}/{key}/security"
    u = {**p.PAGE_USER_RULESET, "permissions": [perm]}
    g = {**p.PAGE_GROUP_RULESET, "permissions": [perm] if p.PAGE_GROUP_RULESET.get("permissions") else []}
    return [
        Case(f"{prefix}_user_ruleset_list", lambda c: getattr(c, f"{prefix}_user_ruleset_list")(key), "GET",
             base + "/users/", p.page([u]), query={"limit": ["20"], "offset": ["0"]},
             check=lambda r: r.results[0].username == "louise.data"),
        Case(f"{prefix}_user_ruleset_get", lambda c: getattr(c, f"{prefix}_user_ruleset_get")(key, "louise.data"),
             "GET", base + "/users/louise.data/", u, check=lambda r: r.permissions == [perm]),
        Case(f"{prefix}_user_ruleset_create", lambda c: getattr(c, f"{prefix}_user_ruleset_create")(
            key, username="louise.data", permissions=[perm]), "POST", base + "/users/", u,
             sent={"user": {"username": "louise.data"}, "permissions": [perm]}),
        Case(f"{prefix}_user_ruleset_update", lambda c: getattr(c, f"{prefix}_user_ruleset_update")(
            key, "louise.data", permissions=[perm]), "PUT", base + "/users/louise.data/", u,
             sent={"user": {"username": "louise.data"}, "permissions": [perm]}),
        Case(f"{prefix}_user_ruleset_delete", lambda c: getattr(c, f"{prefix}_user_ruleset_delete")(key, "louise.data"),
             "DELETE", base + "/users/louise.data/", status=204),
        Case(f"{prefix}_group_ruleset_list", lambda c: getattr(c, f"{prefix}_group_ruleset_list")(key), "GET",
             base + "/groups/", p.page([g]), query={"limit": ["20"], "offset": ["0"]},
             check=lambda r: r.results[0].group_uid == "content_designers"),
        Case(f"{prefix}_group_ruleset_get", lambda c: getattr(c, f"{prefix}_group_ruleset_get")(key, "content_designers"),
             "GET", base + "/groups/content_designers/", g, check=lambda r: r.kind == "group"),
        Case(f"{prefix}_group_ruleset_create", lambda c: getattr(c, f"{prefix}_group_ruleset_create")(
            key, group_uid="content_designers", permissions=[perm]), "POST", base + "/groups/", g,
             sent={"group": {"uid": "content_designers"}, "permissions": [perm]}),
        Case(f"{prefix}_group_ruleset_update", lambda c: getattr(c, f"{prefix}_group_ruleset_update")(
            key, "content_designers", permissions=[]), "PUT", base + "/groups/content_designers/", g,
             sent={"group": {"uid": "content_designers"}, "permissions": []}),
        Case(f"{prefix}_group_ruleset_delete", lambda c: getattr(c, f"{prefix}_group_ruleset_delete")(
            key, "content_designers"), "DELETE", base + "/groups/content_designers/", status=204),
    ]


CASES += _ruleset_cases("studio_page", "studio_pages", "sp_abc")
CASES += [
    # ---- code editor pages
    Case("code_page_list", lambda c: c.code_page_list(limit=3), "GET", "/code_editor_pages/", p.page([p.CODE_PAGE]),
         query={"limit": ["3"], "offset": ["0"]}, check=lambda r: r.results[0].display_title == "Hello"),
    Case("code_page_get", lambda c: c.code_page_get("hello"), "GET", "/code_editor_pages/hello/", p.CODE_PAGE,
         check=lambda r: r.content["html"]["en"] == "<p>Hello</p>"),
    Case("code_page_create", lambda c: c.code_page_create({"slug": "hello", "content": p.CODE_PAGE["content"]}),
         "POST", "/code_editor_pages/", p.CODE_PAGE, status=201,
         sent={"slug": "hello", "content": p.CODE_PAGE["content"]}),
    Case("code_page_update", lambda c: c.code_page_update("hello", {"content": p.CODE_PAGE["content"]}), "PUT",
         "/code_editor_pages/hello/", p.CODE_PAGE, sent={"content": p.CODE_PAGE["content"]}),
    Case("code_page_delete", lambda c: c.code_page_delete("hello"), "DELETE", "/code_editor_pages/hello/",
         status=204),
    Case("code_page_archive", lambda c: c.code_page_archive("hello"), "POST", "/code_editor_pages/hello/archive/",
         p.OK),
    Case("code_page_unarchive", lambda c: c.code_page_unarchive("hello"), "POST",
         "/code_editor_pages/hello/unarchive/", p.OK),
    Case("code_page_bulk_delete", lambda c: c.code_page_bulk_delete(slugs=["a", "b"]), "DELETE",
         "/code_editor_pages/", ["a", "b"], query={"slug": ["a", "b"]}, check=lambda r: r == ["a", "b"]),
    Case("code_page_bulk_delete", lambda c: c.code_page_bulk_delete(search="old"), "DELETE", "/code_editor_pages/",
         ["old-1"], query={"search": ["old"]}, check=lambda r: r == ["old-1"], id="code_page_bulk_delete-search"),
]
CASES += _ruleset_cases("code_page", "code_editor_pages", "hello")
CASES += _ruleset_cases("datasource_connection", "datasource_connections", "co_abc", perm="manage_connection")
CASES += [
    # ---- misc
    Case("datasource_connection_list", lambda c: c.datasource_connection_list(sort="dataset_count"), "GET",
         "/datasource_connections/", p.page([p.DATASOURCE_CONNECTION]),
         query={"sort": ["dataset_count"], "limit": ["20"], "offset": ["0"]},
         check=lambda r: r.results[0].dataset_count == 2 and "echoed-secret-42" not in repr(r)
         and "header-secret-42" not in repr(r.results[0].raw) and r.results[0].header_names == ["X-Token"]),
    Case("datasource_connection_get", lambda c: c.datasource_connection_get("co_abc"), "GET",
         "/datasource_connections/co_abc/", p.DATASOURCE_CONNECTION,
         check=lambda r: r.auth_username == "loader" and "password" not in r.raw["auth"] and r.url.startswith("https")),
    Case("datasource_connection_create", lambda c: c.datasource_connection_create(p.DATASOURCE_BODY), "POST",
         "/datasource_connections/", p.DATASOURCE_CONNECTION, status=201, sent=p.DATASOURCE_BODY,
         check=lambda r: r.uid == "co_abc" and "echoed-secret-42" not in str(r.raw)),
    Case("datasource_connection_update", lambda c: c.datasource_connection_update("co_abc", {"type": "http",
         "url": "https://files.example.org"}), "PUT", "/datasource_connections/co_abc/", p.DATASOURCE_CONNECTION,
         sent={"type": "http", "url": "https://files.example.org"}, check=lambda r: r.auth_type == "basic_auth"),
    Case("datasource_connection_delete", lambda c: c.datasource_connection_delete("co_abc"), "DELETE",
         "/datasource_connections/co_abc/", status=204),
    Case("metadata_template_list", lambda c: c.metadata_template_list(type="basic", is_active=True), "GET",
         "/metadata/templates/", p.page([p.METADATA_TEMPLATE]),
         query={"type": ["basic"], "is_active": ["true"], "limit": ["20"], "offset": ["0"]},
         check=lambda r: r.results[0].name == "default"),
    Case("metadata_template_fields", lambda c: c.metadata_template_fields("default"), "GET",
         "/metadata/templates/default/fields/", p.page([p.METADATA_TEMPLATE_FIELD]),
         query={"limit": ["20"], "offset": ["0"]}, check=lambda r: r.results[0].label == "Title"),
    Case("metadata_template_get", lambda c: c.metadata_template_get("dcat"), "GET", "/metadata/templates/dcat/",
         p.METADATA_TEMPLATE_DCAT,
         check=lambda r: r.name == "dcat" and [f.type for f in r.fields] == ["text", "enum", "list"]
         and r.fields[1].choices == ["daily", "monthly"] and r.fields[0].required),
    Case("metadata_template_create", lambda c: c.metadata_template_create(p.METADATA_TEMPLATE_CUSTOM), "POST",
         "/metadata/templates/", p.METADATA_TEMPLATE_CUSTOM, status=201, sent=p.METADATA_TEMPLATE_CUSTOM,
         check=lambda r: r.name == "custom" and r.fields[0].type == "boolean"),
    Case("metadata_template_update", lambda c: c.metadata_template_update("custom", p.METADATA_TEMPLATE_CUSTOM),
         "PUT", "/metadata/templates/custom/", p.METADATA_TEMPLATE_CUSTOM, sent=p.METADATA_TEMPLATE_CUSTOM,
         check=lambda r: r.title == "Custom"),
    Case("metadata_template_delete", lambda c: c.metadata_template_delete("custom"), "DELETE",
         "/metadata/templates/custom/", status=204),
    Case("metadata_template_field_get", lambda c: c.metadata_template_field_get("default", "title"), "GET",
         "/metadata/templates/default/fields/title/", p.METADATA_TEMPLATE_FIELD,
         check=lambda r: r.name == "title" and r.type == "text"),
    Case("metadata_template_field_suggest",
         lambda c: c.metadata_template_field_suggest("default", "keyword", query="tr", count=5), "GET",
         "/metadata/templates/default/fields/keyword/suggest/", {"hits": [{"value": "trees"}, "trams", {"value": "trees"}]},
         query={"query": ["tr"], "count": ["5"]}, check=lambda r: r.values == ["trees", "trams"]),
    Case("asset_list", lambda c: c.asset_list(), "GET", "/medias/images/", p.page([p.ASSET]),
         query={"limit": ["20"], "offset": ["0"]}, check=lambda r: r.results[0].url.endswith("logo.svg")),
]

COVERED = {case.name for case in CASES}


def _case_id(case: Case) -> str:
    return case.id or case.name


@requires_spec
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_method_request_response_and_result(case, api, portal):
    # given a portal answering the canned (spec-valid) body
    api.expect(case.method, case.path, status=case.status, body=case.body)
    # when
    result = case.call(portal)
    # then one request, exactly as expected (the api fixture also validates it against the spec)
    assert len(api.calls) == 1
    method, path, query, sent, _ = split_call(api.calls[0])
    assert (method, path) == (case.method, case.path)
    assert query == case.query
    if case.sent is UNSET:
        assert api.calls[0].request.body in (None, b"", "")
    else:
        assert sent == case.sent, json.dumps(sent)
    if case.status == 204 or case.body == p.OK:
        assert result is None
    assert case.check(result), repr(result)
