"""Canned portal answers, built to be valid against the spec (test_payloads.py checks each one)."""

from __future__ import annotations

import copy

TS = "2026-01-02T03:04:05Z"
OK = {"detail": "ok"}


def page(results: list, *, total: int | None = None, next_url: str | None = None, previous: str | None = None) -> dict:
    return {"total_count": len(results) if total is None else total, "next": next_url, "previous": previous,
            "results": copy.deepcopy(results)}


METADATA = {
    "default": {
        "title": {"value": "Trees of Paris"},
        "modified": {"value": TS},
        "language": {"value": "en"},
    },
}

DATASET = {
    "uid": "da_abc123",
    "dataset_id": "trees-of-paris",
    "created_at": TS,
    "updated_at": TS,
    "is_published": True,
    "is_restricted": False,
    "metadata": METADATA,
}

DATASET_2 = {**DATASET, "uid": "da_def456", "dataset_id": "bike-lanes",
             "metadata": {"default": {**METADATA["default"], "title": {"value": "Bike lanes"}}}}

STATUS_IDLE = {
    "status": "idle",
    "previous": "processing",
    "next": None,
    "since": TS,
    "is_published": True,
    "message": None,
    "records_errors": [],
    "params": {},
}

STATUS_ERROR = {
    **STATUS_IDLE,
    "status": "error",
    "is_published": False,
    "message": "Processing failed",
    "records_errors": [{"record_id": "r1", "field_uid": "height", "processor_uid": "pr_1",
                        "message": "not a number"}],
}

STATUS_LIMIT = {**STATUS_IDLE, "status": "limit_reached",
                "params": {"error": {"limit_type": "records", "limit": 1000, "value": 1200}}}

DATASET_FILE = {"uid": "fi_trees.csv", "filename": "trees.csv", "mimetype": "text/csv", "created_at": TS}

RESOURCE = {
    "uid": "re_abc",
    "type": "csvfile",
    "title": "Trees CSV",
    "display_name": "trees.csv",
    "updated_at": TS,
    "params": {"separator": ";", "headers_first_row": True},
    "datasource": {"type": "uploaded_file", "file": {"uid": "fi_trees.csv"}},
}

RESOURCE_PREVIEW = {
    "fields": [{"name": "height", "label": "Height", "type": "double"}],
    "records": [{"height": 12.5}],
}

EXTRACTOR = {"type": "csvfile", "label": "CSV", "parameters": []}

METADATA_VALUE = {"value": "Trees of Paris"}

USER_RULESET = {"user": {"username": "louise.data"}, "permissions": ["edit_dataset"],
                "security": {"is_data_visible": True}}
GROUP_RULESET = {"group": {"uid": "content_designers"}, "permissions": ["publish_dataset"],
                 "security": {"is_data_visible": True}}
PAGE_USER_RULESET = {"user": {"username": "louise.data"}, "permissions": ["edit_page"]}
PAGE_GROUP_RULESET = {"group": {"uid": "content_designers"}, "permissions": ["edit_page"]}

PROCESSOR = {"uid": "pr_abc", "type": "replace", "label": "Replace text"}
FIELD_CONFIG = {"uid": "fc_abc", "type": "rename", "label": "Rename height", "from_name": "h",
                "to_name": "height", "field_label": "Height"}
DATASET_SCHEDULE = {"uid": "sc_abc", "cron_schedule": "0 3 * * *"}
HARVESTER_SCHEDULE = {"uid": "sc_hrv", "cron_schedule": "0 4 * * 1", "timezone": "Europe/Paris"}
VERSION = {"uid": "ch_abc", "sections": ["data"], "created_by": {"username": "louise.data"}, "can_restore": True,
           "created_at": TS}
ATTACHMENT = {"uid": "at_abc", "filename": "notes.pdf", "mimetype": "application/pdf", "created_at": TS}
ALTERNATIVE_EXPORT = {"uid": "ae_abc", "title": "Shapefile", "description": "As shapefile",
                      "mimetype": "application/zip", "type": "url", "created_at": TS, "updated_at": TS}
FEEDBACK = {"uid": "df_abc", "record_id": "r1", "user": {"username": "louise.data"}, "comment": "Wrong height",
            "values": {"height": 13}, "is_archived": False, "created_at": TS}

HARVESTER = {
    "uid": "hrv_ods",
    "type": "ods",
    "name": "Neighbour portal",
    "status": "idle",
    "remote_datasets_count": 10,
    "harvested_datasets_count": 9,
    "published_datasets_count": 8,
    "attached_datasets_count": 9,
    "has_error": False,
    "resource_errors_count": 1,
    "created_at": TS,
    "updated_at": TS,
    "updated_by": {"username": "louise.data"},
    "last_started_at": TS,
    "last_success_at": None,
    "domain": "neighbour",
}
HARVESTER_PROCESSING = {**HARVESTER, "status": "processing"}
HARVESTER_ERRORS = {"harvester": None, "resources": {"remote-1": "Could not harvest the dataset."}}
HARVESTER_PREVIEW = {"total_count": 1, "results": [{"id": "remote-1", "title": "Remote one", "description": "One"}]}

USER = {
    "username": "louise.data",
    "email": "louise@example.org",
    "first_name": "Louise",
    "last_name": "Data",
    "is_active": True,
    "permissions": ["edit_dataset"],
    "joined_at": TS,
    "last_seen_at": TS,
    "groups": [],
}
USER_2 = {**USER, "username": "marc", "email": "marc@example.org", "first_name": "Marc"}
INVITE_RESULT = {
    "0": {"status_code": "success", "data": USER},
    "1": {"status_code": "error", "error": {"email": ["Enter a valid email address."]}},
}
BATCH_RESULT = {
    "0": {"status_code": "success", "data": USER},
    "1": {"status_code": "error", "error": "User not found"},
}
GROUP = {"uid": "content_designers", "title": "Content designers", "description": "They design content",
         "user_count": 3, "permissions": ["edit_page"], "created_at": TS, "updated_at": TS}
APIKEY = {"uid": "ak_abc", "label": "CI key", "permissions": ["edit_dataset"], "created_at": TS,
          "user": {"username": "louise.data"}}
APIKEY_CREATED = {**APIKEY, "key": "freshly-minted-secret-0123456789"}
APIKEY_REVOKED = {**APIKEY, "revocation_status": {"revoked_at": TS, "revocation_reason": "leaked"}}

DATASOURCE_CONNECTION = {"uid": "co_abc", "type": "http", "is_reusable": True, "dataset_count": 2,
                         "created_at": "2026-01-01", "updated_at": "2026-01-01", "url": "https://files.example.org",
                         "headers": [{"name": "X-Token", "value": "header-secret-42"}],
                         "auth": {"type": "basic_auth", "username": "loader", "password": "echoed-secret-42"}}
DATASOURCE_BODY = {"type": "http", "url": "https://files.example.org", "is_reusable": True,
                   "auth": {"type": "basic_auth", "username": "loader", "password": "pw-0123456789"}}
APIKEY_SEARCH_FOUND = {"found": True, "result": {**APIKEY, "is_revoked": True,
                                                 "revocation_status": {"revoked_at": TS, "revocation_reason": "old"}}}
APIKEY_SEARCH_MISSING = {"found": False, "result": None}

STUDIO_PAGE = {"uid": "sp_abc", "slug": "welcome", "public": True, "contents": [], "first_published_at": TS,
               "created_at": TS, "updated_at": TS, "created_by": {"username": "louise.data"}}
CODE_PAGE = {"slug": "hello", "title": {"en": "Hello"}, "description": "A page saying hello",
             "content": {"html": {"en": "<p>Hello</p>"}, "css": {"en": ""}}, "tags": ["demo"],
             "is_restricted": False, "is_archived": False, "created_at": TS, "updated_at": TS}

METADATA_TEMPLATE = {"name": "default", "title": "Standard", "type": "basic", "is_active": True, "schema": []}
METADATA_TEMPLATE_FIELD = {"name": "title", "type": "text", "label": "Title"}
METADATA_TEMPLATE_DCAT = {"name": "dcat", "title": "DCAT", "type": "interop", "is_active": True, "schema": [
    {"name": "contact_name", "type": "text", "label": "Contact", "requirement_level": "mandatory"},
    {"name": "accrualperiodicity", "type": "enum", "label": "Frequency", "choices": ["daily", "monthly"]},
    {"name": "spatial", "type": "list", "label": "Spatial coverage"}]}
METADATA_TEMPLATE_CUSTOM = {"name": "custom", "title": "Custom", "type": "basic", "is_active": True,
                            "schema": [{"name": "reviewed", "type": "boolean", "label": "Reviewed"}]}
ASSET = {"url": "/assets/theme_image/logo.svg"}

ERROR_NOT_FOUND = {"error_code": "not_found", "message": "Not found."}
ERROR_VALIDATION = {"error_code": "validation_error", "message": "Invalid input.",
                    "detail": {"dataset_id": ["This field is required"]}}
ERROR_DATASET_STATUS = {
    "error_code": "invalid_dataset_status",
    "message": "Invalid precondition, dataset status is 'queued' but must be one of 'idle, error, limit_reached'",
}
ERROR_HARVESTER_STATUS = {"error_code": "invalid_harvester_status",
                          "message": "Invalid transition from processing to processing"}
ERROR_INTERNAL = {"error_code": "internal_error", "message": "A server error occurred.", "trace_id": "tr-42"}
ERROR_AUTH = {"error_code": "authentication_failed", "message": "Invalid API key."}
ERROR_PERMISSION = {"error_code": "permission_denied", "message": "You do not have permission."}
ERROR_THROTTLED = {"error_code": "throttled", "message": "Too many requests."}
ERROR_OLD_SHAPE = {"status_code": 400, "error_key": "ODSException", "message": "Old style message",
                   "raw_message": "Old style message"}
