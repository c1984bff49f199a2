"""Services through the real client, with the portal mocked by `responses`; audit rows checked."""

import pytest
import responses
from django.core.exceptions import PermissionDenied

from portaladmin.audit.models import AuditEvent
from portaladmin.jobs.models import Job, JobItem
from portaladmin.people import services
from portaladmin.people.models import RowsDraft
from portaladmin.people.rows import InputError
from portaladmin.portals.client.errors import PortalNotFound, PortalValidationError
from portaladmin.portals.models import Role

from .conftest import API, body_of, group, paginated, user

LAST_ADMIN = "The removal of the only domain administrator is not allowed."


@pytest.fixture
def oscar(make_user, connection):
    return make_user("oscar", role=Role.OPERATOR, connection=connection)


def test_permissions_update_puts_the_writable_fields_and_is_audited(api, connection, oscar):
    api.get(API + "/users/ana/", json=user("ana", permissions=["edit_dataset"], explore_limits={"api_calls": {
        "limit": 10, "unit": "day"}}))
    api.put(API + "/users/ana/", json=user("ana", permissions=["publish_dataset"]))
    services.user_permissions_update(connection=connection, actor=oscar, username="ana",
                                     permissions=["publish_dataset"])
    sent = body_of(api.calls[1])
    assert sent == {"email": "ana@example.org", "first_name": "Ana", "last_name": "Doe",
                    "permissions": ["publish_dataset"], "explore_limits": {"api_calls": {"limit": 10, "unit": "day"}}}
    event = AuditEvent.objects.get(action="user.permissions_update")
    assert event.target == "ana" and event.outcome == "success" and event.actor == oscar


def test_limits_update_sets_or_clears_the_api_call_quota(api, connection, oscar):
    api.get(API + "/users/ana/", json=user("ana"))
    api.put(API + "/users/ana/", json=user("ana"))
    services.user_limits_update(connection=connection, actor=oscar, username="ana", api_calls_limit=500,
                                api_calls_unit="month")
    assert body_of(api.calls[1])["explore_limits"] == {"api_calls": {"limit": 500, "unit": "month"}}
    services.user_limits_update(connection=connection, actor=oscar, username="ana", api_calls_limit=None)
    assert body_of(api.calls[3])["explore_limits"] == {}


def test_removing_the_last_admin_raises_the_portals_message_and_audits_the_failure(api, connection, oscar):
    api.delete(API + "/users/admin/", status=400, json={"error_code": "validation_error", "message": LAST_ADMIN,
                                                          "detail": {"non_field_errors": [LAST_ADMIN]}})
    with pytest.raises(PortalValidationError) as caught:
        services.user_remove(connection=connection, actor=oscar, username="admin")
    assert LAST_ADMIN in str(caught.value)
    event = AuditEvent.objects.get(action="user.delete")
    assert event.outcome == "failure" and LAST_ADMIN in event.error


def test_user_remove_success(api, connection, oscar):
    api.delete(API + "/users/ben/", status=204)
    services.user_remove(connection=connection, actor=oscar, username="ben")
    assert AuditEvent.objects.filter(action="user.delete", outcome="success", target="ben").exists()


def test_provision_returns_the_row_result(api, connection, oscar):
    api.post(API + "/users/provision/", json={"0": {"status_code": "success", "data": user("zoe")}})
    result = services.user_provision(connection=connection, actor=oscar,
                                     body={"email": "zoe@example.org", "identity_provider": {"uid": "saml"}})
    assert result.ok and result.user.username == "zoe"
    assert body_of(api.calls[0]) == {"email": "zoe@example.org", "identity_provider": {"uid": "saml"}}
    assert AuditEvent.objects.filter(action="user.provision", target="zoe@example.org").exists()


def test_group_create_update_delete_and_members(api, connection, oscar):
    api.post(API + "/groups/", status=201, json=group("gis", "GIS"))
    api.get(API + "/groups/gis/", json=group("gis", "GIS"))
    api.put(API + "/groups/gis/", json=group("gis", "GIS team"))
    api.post(API + "/groups/gis/users/", status=201, json=user("ana", groups=["gis"]))
    api.delete(API + "/groups/gis/users/ana/", status=204)
    api.delete(API + "/groups/gis/", status=204)
    services.group_create(connection=connection, actor=oscar, title="GIS", description="maps",
                          permissions=["edit_dataset"])
    assert body_of(api.calls[0]) == {"title": "GIS", "description": "maps", "permissions": ["edit_dataset"]}
    services.group_update(connection=connection, actor=oscar, group_uid="gis", title="GIS team", description="",
                          permissions=[])
    assert body_of(api.calls[2])["title"] == "GIS team"
    services.group_member_add(connection=connection, actor=oscar, group_uid="gis", username="ana")
    assert body_of(api.calls[3]) == {"username": "ana"}
    services.group_member_remove(connection=connection, actor=oscar, group_uid="gis", username="ana")
    services.group_delete(connection=connection, actor=oscar, group_uid="gis")
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "group.create", "group.update", "group.member_add", "group.member_remove", "group.delete"]


def test_group_create_validation_error_keeps_field_details(api, connection, oscar):
    api.post(API + "/groups/", status=400, json={"error_code": "validation_error", "message": "Invalid input",
                                                 "detail": {"title": ["This field is required."]}})
    with pytest.raises(PortalValidationError) as caught:
        services.group_create(connection=connection, actor=oscar, title="x")
    assert caught.value.field_errors() == {"title": ["This field is required."]}


def test_invite_preview_checks_groups_on_the_portal_and_sends_nothing(groups_on_portal, connection, oscar):
    text = "email,groups\nana@example.org,Data Analysts\nbad,\nben@example.org,ghosts\n"
    draft = services.invite_preview(actor=oscar, connection=connection, connections=[], text=text)
    assert [r["target"] for r in draft.rows] == ["ana@example.org"]
    assert draft.rows[0]["payload"] == {"email": "ana@example.org", "groups": [{"uid": "analysts"}]}
    assert [r["line"] for r in draft.rejected] == [3, 4]
    assert all(call.request.method == "GET" for call in groups_on_portal.calls)


def test_invite_preview_needs_operator_on_every_target(groups_on_portal, connection, oscar, make_connection):
    other = make_connection("other")
    with pytest.raises(PermissionDenied):
        services.invite_preview(actor=oscar, connection=connection, connections=[other], text="a@example.org")


def test_invite_preview_refuses_a_non_utf8_file(groups_on_portal, connection, oscar):
    with pytest.raises(InputError):
        services.invite_preview(actor=oscar, connection=connection, connections=[],
                                data="email\nzoé@example.org\n".encode("latin-1"))


def test_confirming_creates_one_job_with_chunks_on_each_connection(api, connection, oscar, make_connection,
                                                                   no_enqueue, settings,
                                                                   django_capture_on_commit_callbacks):
    settings.INVITE_CHUNK_SIZE = 2
    other = make_connection("other", base_url="https://other.example.org")
    other.memberships.create(user=oscar, role=Role.OPERATOR)
    api.get(API + "/groups/", json=paginated([]))
    api.get("https://other.example.org/api/automation/v1.0/groups/", json=paginated([]))
    text = "\n".join(f"u{i}@example.org" for i in range(5))
    draft = services.invite_preview(actor=oscar, connection=connection, connections=[other], text=text)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.draft_start(actor=oscar, draft=draft)
        again = services.draft_start(actor=oscar, draft=RowsDraft.objects.get(pk=draft.pk))
    assert again.pk == job.pk and Job.objects.count() == 1
    assert job.kind == "user.invite" and job.total == 10
    assert set(job.connections.all()) == {connection, other}
    items = JobItem.objects.filter(job=job, connection=connection).order_by("id")
    assert [i.chunk for i in items] == [0, 0, 1, 1, 2]
    assert items[0].payload == {"email": "u0@example.org"} and items[0].target == "u0@example.org"
    # one doorbell per chunk per connection, with ids only
    assert sorted(len(ids) for ids in no_enqueue) == [1, 1, 2, 2, 2, 2]


def test_batch_add_preview_resolves_usernames_and_emails(api, connection, oscar):
    api.get(API + "/groups/gis/", json=group("gis"))
    api.get(API + "/users/", json=paginated([user("ana"), user("ben", groups=["gis"]), user("cid", "Cid@Example.org")]))
    text = "ana\nben\ncid@example.org\nghost\nANA\n\n"
    draft = services.batch_add_preview(actor=oscar, connection=connection, group_uid="gis", text=text)
    assert [r["target"] for r in draft.rows] == ["ana", "cid"]
    assert {r["line"]: r["errors"][0] for r in draft.rejected} == {
        2: "Already a member of this group.", 4: "No user “ghost” on Demo.", 5: "Same user as line 1."}
    assert draft.skipped_lines == 1


def test_batch_add_preview_unknown_group_is_not_found(api, connection, oscar):
    api.get(API + "/groups/nope/", status=404, json={"error_code": "not_found", "message": "Not found."})
    with pytest.raises(PortalNotFound):
        services.batch_add_preview(actor=oscar, connection=connection, group_uid="nope", text="ana")


def test_no_portal_call_leaves_without_a_timeout(api, connection, oscar):
    api.get(API + "/users/ana/", json=user("ana"))
    api.put(API + "/users/ana/", json=user("ana"))
    services.user_permissions_update(connection=connection, actor=oscar, username="ana", permissions=[])
    for call in api.calls:
        assert isinstance(call, responses.Call)
        assert call.request.headers["Authorization"].startswith("apikey ")
