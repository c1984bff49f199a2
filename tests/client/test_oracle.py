"""The test oracle itself: every spec path is matchable and bad requests/answers are caught."""

from __future__ import annotations

import re

import pytest

from tests import oracle
from tests.client import payloads as p

pytestmark = oracle.requires_spec


def test_every_operation_matches_its_own_template():
    operations = oracle.all_operations()
    assert len(operations) == 181
    assert len({path for _, path in operations}) == 105
    for method, template in operations:
        concrete = re.sub(r"\{[^/]+\}", "some_id", template)
        assert oracle.operation_for(method, concrete)[0] == template


def test_literal_segments_win_over_parameters():
    assert oracle.operation_for("POST", "/datasets/da_1/resources/files/")[0] == \
        "/datasets/{dataset_uid}/resources/files/"
    assert oracle.operation_for("GET", "/datasets/da_1/resources/re_1/")[0] == \
        "/datasets/{dataset_uid}/resources/{resource_uid}/"


@pytest.mark.parametrize("call, fragment", [
    (lambda: oracle.validate_request("GET", "/datasets"), "must end with '/'"),
    (lambda: oracle.validate_request("GET", "/nowhere/"), "no such path"),
    (lambda: oracle.validate_request("PATCH", "/datasets/"), "method not allowed"),
    (lambda: oracle.validate_request("GET", "/datasets/", query={"apikey": "x"}), "unknown query parameter"),
    (lambda: oracle.validate_request("GET", "/datasets/", query={"limit": "1001"}), "maximum"),
    (lambda: oracle.validate_request("DELETE", "/harvesters/h/"), "required query parameter"),
    (lambda: oracle.validate_request("POST", "/datasets/da_1/publish/", json_body={"x": 1}), "no request body"),
    (lambda: oracle.validate_request("POST", "/datasets/", json_body={"dataset_id": "x"}), "metadata"),
    (lambda: oracle.validate_request("POST", "/datasets/da_1/resources/files/", json_body={}), "not accepted"),
    (lambda: oracle.validate_response("GET", "/datasets/da_1/status/", 200, {"status": "nope"}), "is not one of"),
    (lambda: oracle.validate_response("DELETE", "/datasets/da_1/", 204, {"detail": "x"}), "no body"),
])
def test_mismatches_raise_readable_assertions(call, fragment):
    with pytest.raises(AssertionError, match=re.escape(fragment)):
        call()


def test_patched_defects():
    # is_published may be null; total_count is an integer; groups [] is fine; read-only uid not required
    oracle.validate_response("GET", "/datasets/da_1/status/", 200, {**p.STATUS_IDLE, "is_published": None})
    oracle.validate_response("GET", "/datasets/", 200, p.page([], total=3))
    oracle.validate_response("GET", "/users/louise.data/", 200, {**p.USER, "groups": []})
    oracle.validate_request("POST", "/groups/", json_body={"title": "No uid needed"})
    oracle.validate_response("DELETE", "/datasets/da_1/", 204, None)
    oracle.validate_response("GET", "/datasets/da_1/metadata/default/", 200, p.METADATA["default"])


def test_error_answers_validate_against_default_error():
    for body in (p.ERROR_NOT_FOUND, p.ERROR_INTERNAL, p.ERROR_AUTH, p.ERROR_THROTTLED):
        oracle.validate_response("GET", "/datasets/da_1/", 500, body)
    oracle.validate_response("POST", "/datasets/", 400, p.ERROR_VALIDATION)
    oracle.validate_response("POST", "/datasets/da_1/publish/", 400, p.ERROR_DATASET_STATUS)


def test_query_given_in_the_path():
    oracle.validate_request("GET", "/api/automation/v1.0/users/?sort=username&sort=last_name&limit=5")
    oracle.validate_request("DELETE", "/code_editor_pages/?slug=a&slug=b")


def test_the_api_fixture_rejects_requests_that_drift_from_the_spec(portal):
    # the SpecMock used by every client test validates each recorded request when the test ends
    from tests.client.conftest import SpecMock

    mock = SpecMock(assert_all_requests_are_fired=False)
    with mock:
        mock.add("GET", "https://data.example.org/api/automation/v1.0/datasets/", json=p.page([]))
        portal.session.get("https://data.example.org/api/automation/v1.0/datasets/?colour=red", timeout=(1, 1))
        with pytest.raises(AssertionError, match="unknown query parameter 'colour'"):
            mock.check_calls()


def test_the_api_fixture_rejects_canned_answers_that_drift_from_the_spec():
    from tests.client.conftest import SpecMock

    with SpecMock(assert_all_requests_are_fired=False) as mock, pytest.raises(AssertionError, match="status"):
        mock.expect("GET", "/datasets/da_1/status/", body={"status": 42})
