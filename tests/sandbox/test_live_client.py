"""End to end over real HTTP: the real PortalClient against the sandbox served by pytest-django's live_server.

Time is the fake sandbox clock (the live server runs in a thread of this process), so nothing sleeps.
"""

import pytest

from portaladmin.portals.client import PortalClient
from portaladmin.portals.client.errors import (
    PortalAuthError,
    PortalConflict,
    PortalNotFound,
    PortalRateLimited,
    PortalUnavailable,
    PortalValidationError,
)
from portaladmin.sandbox.services import (
    portal_datasets_with_fate,
    request_counts,
    reset_request_log,
    seed_portal,
    set_faults,
)
from tests.oracle import spec_available, validate_response
from tests.sandbox.helpers import new_dataset_body

pytestmark = pytest.mark.live
KEY = "live-sandbox-key-42"


def checked(method, path, status, result):
    """Validate the raw body the client received against the spec; returns the typed result."""
    if spec_available():
        validate_response(method, path, status, result.raw)
    return result


@pytest.fixture
def portal(transactional_db, live_server, sandbox_clock):
    seed_portal("live", datasets=30, users=5, groups=2, harvesters=2, pages=2, api_key=KEY, reset=True)
    set_faults("live", publish_race_seconds=0.3, queue_seconds=1, processing_seconds_min=2,
               processing_seconds_max=2, deleting_seconds=1, aborting_seconds=0.5, harvest_seconds=2)
    return "live"


@pytest.fixture
def client(portal, live_server):
    api = PortalClient(base_url=f"{live_server.url}/sandbox/live", api_key=KEY, timeout=(2.0, 10.0))
    yield api
    api.close()


def status_of(client, uid):
    return checked("GET", f"/datasets/{uid}/status/", 200, client.dataset_status(uid))


def test_create_publish_status_sequence_then_unpublish(client, sandbox_clock):
    body = new_dataset_body("live-data")
    created = checked("POST", "/datasets/", 201, client.dataset_create(
        dataset_id=body["dataset_id"], metadata=body["metadata"]))
    uid = created.uid
    assert created.is_published is False and client.dataset_lookup("live-data").uid == uid

    before = status_of(client, uid)
    client.dataset_publish(uid)
    seen = [status_of(client, uid)]
    for step in (0.5, 1.0, 2.0):
        sandbox_clock.advance(step)
        seen.append(status_of(client, uid))
    assert [s.status for s in seen] == ["idle", "queued", "processing", "idle"]
    assert seen[0].since == before.since and seen[1].since > before.since  # the race: old idle, old since
    assert seen[-1].is_success and seen[-1].is_published is True and seen[-1].previous == "processing"
    assert client.dataset_get(uid).is_published is True

    client.dataset_unpublish(uid)
    assert status_of(client, uid).status == "queued"
    sandbox_clock.advance(1.5)
    assert status_of(client, uid).status == "deleting"
    sandbox_clock.advance(1)
    final = status_of(client, uid)
    assert final.status == "idle" and final.is_published is False


def test_preconditions_surface_as_conflicts(client, sandbox_clock):
    uid = client.dataset_list(limit=1).results[0].uid
    with pytest.raises(PortalConflict) as abort_idle:
        client.dataset_abort(uid)
    assert abort_idle.value.error_code == "invalid_dataset_status"
    client.dataset_publish(uid)
    sandbox_clock.advance(2)
    with pytest.raises(PortalConflict) as busy:
        client.dataset_publish(uid)
    assert "dataset status is 'processing'" in busy.value.message
    client.dataset_abort(uid)
    assert status_of(client, uid).status == "aborting_processing"


def test_error_and_limit_reached_scenarios(client, sandbox_clock):
    error_uid = portal_datasets_with_fate("live", "error")[0]
    limit_uid = portal_datasets_with_fate("live", "limit_reached")[0]
    client.dataset_publish(error_uid)
    client.dataset_publish(limit_uid)
    sandbox_clock.advance(5)
    failed = status_of(client, error_uid)
    assert failed.is_failure and failed.status == "error" and failed.message
    assert failed.records_errors and failed.records_errors[0].field_uid == "population"
    limited = status_of(client, limit_uid)
    assert limited.status == "limit_reached" and limited.params["error"]["limit_type"] == "records"


def test_harvester_run_creates_datasets_and_failing_one_reports_errors(client, sandbox_clock):
    good, bad = client.harvester_list().results
    created = checked("POST", "/harvesters/", 201, client.harvester_create(
        {"type": "ckan", "name": "Live CKAN", "url": "https://demo.ckan.org/api/3"}))
    started = checked("POST", f"/harvesters/{created.uid}/start/", 200, client.harvester_start(created.uid))
    assert started.status == "queued" and started.is_busy
    with pytest.raises(PortalConflict):
        client.harvester_start(created.uid)
    sandbox_clock.advance(1.5)
    assert client.harvester_get(created.uid).status == "processing"
    sandbox_clock.advance(2)
    done = checked("GET", f"/harvesters/{created.uid}/", 200, client.harvester_get(created.uid))
    assert done.is_idle and done.has_error is False and done.attached_datasets_count == 5

    client.harvester_start(bad.uid)
    sandbox_clock.advance(10)
    failed = client.harvester_get(bad.uid)
    assert failed.has_error is True and failed.resource_errors_count == 2
    errors = client.harvester_errors(bad.uid)
    assert errors.has_errors and errors.harvester and len(errors.resources) == 2


def test_invites_with_mixed_results(client):
    existing = client.user_get("admin").email
    results = client.user_invite([{"email": "alice.new@example.org"}, {"email": existing}, {"email": "bad@@x"}])
    assert [r.ok for r in results] == [True, False, False]
    assert results[0].user.username == "alice.new"
    assert "already a member" in results[1].message
    assert client.user_count(search="alice.new") == 1
    batch = client.group_member_batch_add(client.group_list().results[0].uid, ["alice.new", "ghost"])
    assert [r.ok for r in batch] == [True, False]


def test_errors_map_to_the_client_exceptions(client, live_server):
    with pytest.raises(PortalNotFound):
        client.dataset_get("da_nothere")
    with pytest.raises(PortalValidationError) as invalid:
        client.dataset_create(dataset_id="x", metadata={"default": {"title": {"value": "only a title"}}})
    assert "metadata" in invalid.value.detail
    with pytest.raises(PortalAuthError):
        PortalClient(base_url=f"{live_server.url}/sandbox/live", api_key="wrong").dataset_count()
    limited = client.apikey_create(label="readonly", permissions=["explore_restricted_dataset"])
    reader = PortalClient(base_url=f"{live_server.url}/sandbox/live", api_key=limited.key)
    assert reader.dataset_count() > 0
    with pytest.raises(PortalAuthError) as forbidden:
        reader.dataset_publish(client.dataset_list(limit=1).results[0].uid)
    assert forbidden.value.is_permission and forbidden.value.status == 403
    with pytest.raises(PortalValidationError) as last_admin:
        client.user_delete("admin")
    assert "only domain administrator" in last_admin.value.message


def test_faults_reach_the_client_which_retries_reads(client):
    set_faults("live", error_rate=1.0)
    reset_request_log("live")
    with pytest.raises(PortalUnavailable) as failure:
        client.dataset_count()
    assert failure.value.trace_id
    assert request_counts("live", method="GET", path_contains="/datasets/") == 3  # 1 try + PORTALS_MAX_RETRIES
    set_faults("live", error_rate=0.0, throttle_rate=1.0, retry_after=0)
    with pytest.raises(PortalRateLimited):
        client.dataset_count()
    set_faults("live", throttle_rate=0.0)
    assert client.dataset_count() == 30 + 3 + 2


def test_concurrent_clients_are_all_answered_and_counted(client, live_server):
    from concurrent.futures import ThreadPoolExecutor

    reset_request_log("live")
    uids = [d.uid for d in client.dataset_list(limit=20).results]

    def work(uid):
        own = PortalClient(base_url=f"{live_server.url}/sandbox/live", api_key=KEY, timeout=(2.0, 10.0))
        try:
            return [own.dataset_status(uid).status for _ in range(5)]
        finally:
            own.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [s for batch in pool.map(work, uids) for s in batch]
    assert len(statuses) == 100 and set(statuses) <= {"idle", "error", "limit_reached"}
    assert request_counts("live", path_contains="/status/", status=200) == 100
