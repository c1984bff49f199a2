"""Garbage in: every write route answers a JSON 4xx in the spec's error shape, never a crash."""

import re

import pytest

from portaladmin.sandbox import handlers  # noqa: F401  (registers the routes)
from portaladmin.sandbox.api import ROUTES

WRONG_TYPES = {"datasource": "x", "file": 1, "permissions": "edit_domain", "username": ["a"], "email": 5,
               "user": {"username": 5}, "group": {"uid": []}, "cron_schedule": 5, "timezone": 5, "title": {"a": 1},
               "content": "x", "schema": "x", "label": 5, "key": [], "reason": 5, "slug": 5, "type": "csvfile",
               "name": 5, "dataset_id": 7, "metadata": {"default": "x"}, "value": None, "url": 5,
               "identity_provider": {"uid": 3}, "is_restricted": "yes", "description": 5, "tags": "x"}
BODIES = [[], "text", 42, {"unexpected": {"deeply": [1, 2]}},
          {"type": 5, "title": [], "metadata": "x", "user": "admin", "group": 3, "slug": ""},
          WRONG_TYPES, [WRONG_TYPES, "x", 5, {"email": ["a@b.c"]}, {"username": {"x": 1}}]]


def concrete(api, template: str) -> str:
    """Fill a route template with ids that exist on the seeded portal."""
    uid = api.get("/datasets/", query={"limit": 1}).json["results"][0]["uid"]
    harvester = api.get("/harvesters/").json["results"][0]["uid"]
    studio = api.get("/studio_pages/").json["results"][0]["uid"]
    values = {"dataset_uid": uid, "harvester_uid": harvester, "studio_page_uid": studio, "page_slug": "home",
              "group_uid": "analysts", "username": "admin", "template_name": "default",
              "template_field_name": "title", "connection_uid": "co_sandbx"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "zz_unknown"), template)


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_write_routes_refuse_garbage_without_crashing(api, method):
    crashes = []
    for route_method, template, *_ in ROUTES:
        if route_method != method:
            continue
        path = concrete(api, template)
        for n, body in enumerate(BODIES):
            answer = api.call(method, path, json_body=body, check_request=False, check_response=False)
            if answer.status >= 500:
                crashes.append((template, n))
            elif answer.status >= 400:
                assert answer.json["error_code"] and answer.json["message"], (method, template, body)
    assert crashes == []


def test_unknown_ids_answer_not_found_everywhere(api):
    for method, template, *_ in ROUTES:
        if "{" not in template or method == "POST" and template.endswith("/search_key/"):
            continue
        path = re.sub(r"\{(\w+)\}", "zz_unknown", template)
        body = {} if method in ("POST", "PUT") else None
        answer = api.call(method, path, json_body=body, check_request=False)
        assert answer.status == 404, (method, template, answer)
        assert answer.json == {"error_code": "not_found", "message": "Not found."}


def test_read_routes_refuse_garbage_queries_without_crashing(api):
    garbage = {"limit": "x", "offset": "-5", "sort": "zzz", "permissions": "zzz", "all_permissions": "zzz",
               "is_archived": "maybe", "is_active": "perhaps", "count": "many", "delimiter": ";;", "type": "??",
               "search": "%00'\"", "dataset_id": "", "record_id": "1", "query": "x", "expand": "everything"}
    crashes = []
    for method, template, *_ in ROUTES:
        if method != "GET":
            continue
        path = concrete(api, template)
        for name, value in garbage.items():
            answer = api.call("GET", path, query={name: value}, check_request=False, check_response=False)
            if answer.status >= 500:
                crashes.append((template, name))
    assert crashes == []
