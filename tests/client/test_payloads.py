"""Every canned body in payloads.py is valid against the spec's schema for the answer it stands for."""

from __future__ import annotations

import pytest

from tests.client import payloads as p
from tests.oracle import requires_spec, validate_response

pytestmark = requires_spec

D = "/datasets/da_abc123"
# constant name -> (method, path, status, how to wrap it into the answer)
ANSWERS = {
    "DATASET": ("GET", D + "/", 200, None),
    "DATASET_2": ("POST", D + "/copy/", 201, None),
    "STATUS_IDLE": ("GET", D + "/status/", 200, None),
    "STATUS_ERROR": ("GET", D + "/status/", 200, None),
    "STATUS_LIMIT": ("GET", D + "/status/", 200, None),
    "DATASET_FILE": ("POST", D + "/resources/files/", 200, None),
    "RESOURCE": ("GET", D + "/resources/re_abc/", 200, None),
    "RESOURCE_PREVIEW": ("GET", D + "/resources/re_abc/preview/", 200, None),
    "EXTRACTOR": ("GET", "/extractors/", 200, "list"),
    "METADATA": ("GET", D + "/metadata/", 200, None),
    "METADATA_VALUE": ("GET", D + "/metadata/default/title/", 200, None),
    "USER_RULESET": ("GET", D + "/security/users/louise.data/", 200, None),
    "GROUP_RULESET": ("GET", D + "/security/groups/content_designers/", 200, None),
    "PAGE_USER_RULESET": ("GET", "/studio_pages/sp_abc/security/users/louise.data/", 200, None),
    "PAGE_GROUP_RULESET": ("GET", "/code_editor_pages/hello/security/groups/content_designers/", 200, None),
    "PROCESSOR": ("GET", D + "/processors/pr_abc/", 200, None),
    "FIELD_CONFIG": ("GET", D + "/fields/fc_abc/", 200, None),
    "DATASET_SCHEDULE": ("GET", D + "/schedules/sc_abc/", 200, None),
    "HARVESTER_SCHEDULE": ("GET", "/harvesters/hrv_ods/schedules/sc_hrv/", 200, None),
    "VERSION": ("GET", D + "/versions/ch_abc/", 200, None),
    "ATTACHMENT": ("GET", D + "/attachments/at_abc/", 200, None),
    "ALTERNATIVE_EXPORT": ("GET", D + "/alternative_exports/ae_abc/", 200, None),
    "FEEDBACK": ("GET", D + "/feedbacks/df_abc/", 200, None),
    "HARVESTER": ("GET", "/harvesters/hrv_ods/", 200, None),
    "HARVESTER_PROCESSING": ("POST", "/harvesters/hrv_ods/start/", 200, None),
    "HARVESTER_ERRORS": ("GET", "/harvesters/hrv_ods/errors/", 200, None),
    "HARVESTER_PREVIEW": ("GET", "/harvesters/hrv_ods/preview/", 200, None),
    "USER": ("GET", "/users/louise.data/", 200, None),
    "USER_2": ("GET", "/users/marc/", 200, None),
    "INVITE_RESULT": ("POST", "/users/invite/", 200, None),
    "BATCH_RESULT": ("POST", "/groups/content_designers/users/batch/", 200, None),
    "GROUP": ("GET", "/groups/content_designers/", 200, None),
    "APIKEY": ("GET", "/apikeys/ak_abc/", 200, None),
    "APIKEY_CREATED": ("POST", "/apikeys/", 201, None),
    "APIKEY_REVOKED": ("POST", "/apikeys/ak_abc/revoke/", 200, None),
    "DATASOURCE_CONNECTION": ("GET", "/datasource_connections/co_abc/", 200, None),
    "APIKEY_SEARCH_FOUND": ("POST", "/apikeys/search_key/", 200, None),
    "APIKEY_SEARCH_MISSING": ("POST", "/apikeys/search_key/", 200, None),
    "STUDIO_PAGE": ("GET", "/studio_pages/sp_abc/", 200, None),
    "CODE_PAGE": ("GET", "/code_editor_pages/hello/", 200, None),
    "METADATA_TEMPLATE": ("GET", "/metadata/templates/", 200, "page"),
    "METADATA_TEMPLATE_FIELD": ("GET", "/metadata/templates/default/fields/default/", 200, None),
    "METADATA_TEMPLATE_DCAT": ("GET", "/metadata/templates/dcat/", 200, None),
    "METADATA_TEMPLATE_CUSTOM": ("POST", "/metadata/templates/", 201, None),
    "ASSET": ("GET", "/medias/images/", 200, "page"),
    "OK": ("POST", D + "/publish/", 200, None),
    "ERROR_NOT_FOUND": ("GET", D + "/", 404, None),
    "ERROR_VALIDATION": ("POST", "/datasets/", 400, None),
    "ERROR_DATASET_STATUS": ("POST", D + "/publish/", 400, None),
    "ERROR_HARVESTER_STATUS": ("POST", "/harvesters/hrv_ods/start/", 400, None),
    "ERROR_INTERNAL": ("GET", D + "/", 500, None),
    "ERROR_AUTH": ("GET", D + "/", 401, None),
    "ERROR_PERMISSION": ("GET", D + "/", 403, None),
    "ERROR_THROTTLED": ("GET", D + "/", 429, None),
}
NOT_ANSWERS = {"TS", "ERROR_OLD_SHAPE", "DATASOURCE_BODY"}  # a timestamp; the old error shape; a request body


def test_every_payload_is_mapped():
    constants = {name for name in vars(p) if name.isupper()}
    assert constants - NOT_ANSWERS == set(ANSWERS)


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_payload_is_spec_valid(name):
    method, path, status, wrap = ANSWERS[name]
    body = getattr(p, name)
    if wrap == "list":
        body = [body]
    elif wrap == "page":
        body = p.page([body])
    validate_response(method, path, status, body)
