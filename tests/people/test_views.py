"""Every view: the role matrix (outsider 404, too low 403, allowed 200/302), what each role sees, HTMX partials."""

import re

import pytest

from portaladmin.jobs.models import Job
from portaladmin.people.models import DraftKind, RowsDraft

from .conftest import API, group, paginated, user

LAST_ADMIN = "The removal of the only domain administrator is not allowed."

# (url name, method, kwargs besides conn, role needed, POST data)
VIEWS = [
    ("people:users", "get", {}, "viewer", None),
    ("people:users_export", "get", {}, "viewer", None),
    ("people:user", "get", {"username": "ana"}, "viewer", None),
    ("people:groups", "get", {}, "viewer", None),
    ("people:group", "get", {"group_uid": "gis"}, "viewer", None),
    ("people:provision", "get", {}, "operator", None),
    ("people:provision", "post", {}, "operator", {"email": "zoe@example.org", "identity_provider": "saml"}),
    ("people:invite", "get", {}, "operator", None),
    ("people:invite", "post", {}, "operator", {"text": "new@example.org"}),
    ("people:invite_preview", "get", {"draft_id": "DRAFT"}, "operator", None),
    ("people:invite_rows", "get", {"draft_id": "DRAFT"}, "operator", None),
    ("people:invite_confirm", "post", {"draft_id": "DRAFT"}, "operator", {}),
    ("people:user_permissions", "post", {"username": "ana"}, "operator", {"permissions": ["edit_dataset"]}),
    ("people:user_limits", "post", {"username": "ana"}, "operator", {"api_calls_limit": "10", "api_calls_unit": "day"}),
    ("people:user_group_add", "post", {"username": "ana"}, "operator", {"group_uid": "gis"}),
    ("people:user_group_remove", "post", {"username": "ana", "group_uid": "gis"}, "operator", {}),
    ("people:user_remove", "post", {"username": "ana"}, "admin", {"confirm": "ana"}),
    ("people:group_create", "get", {}, "operator", None),
    ("people:group_create", "post", {}, "operator", {"title": "GIS"}),
    ("people:group_edit", "get", {"group_uid": "gis"}, "operator", None),
    ("people:group_edit", "post", {"group_uid": "gis"}, "operator", {"title": "GIS"}),
    ("people:group_delete", "post", {"group_uid": "gis"}, "admin", {"confirm": "gis"}),
    ("people:group_member_add", "post", {"group_uid": "gis"}, "operator", {"username": "ana"}),
    ("people:group_member_remove", "post", {"group_uid": "gis", "username": "ana"}, "operator", {}),
    ("people:group_batch_add", "get", {"group_uid": "gis"}, "operator", None),
    ("people:group_batch_add", "post", {"group_uid": "gis"}, "operator", {"text": "ana"}),
    ("people:batch_preview", "get", {"group_uid": "gis", "draft_id": "BATCH"}, "operator", None),
    ("people:batch_rows", "get", {"group_uid": "gis", "draft_id": "BATCH"}, "operator", None),
    ("people:batch_confirm", "post", {"group_uid": "gis", "draft_id": "BATCH"}, "operator", {}),
]
RANK = {"viewer": 1, "operator": 2, "admin": 3}


@pytest.fixture
def portal_api(api):
    """Every read and write the views may make, answered like a small portal."""
    api.get(API + "/users/ana/", json=user("ana", groups=["gis"]))
    api.get(API + "/users/", json=paginated([user("ana"), user("ben")]))
    api.get(API + "/users/export/", body=b"username;email\nana;ana@example.org\n", content_type="text/csv")
    api.get(API + "/groups/gis/users/", json=paginated([user("ana", groups=["gis"])]))
    api.get(API + "/groups/gis/", json=group("gis", "GIS"))
    api.get(API + "/groups/", json=paginated([group("gis", "GIS"), group("editors")]))
    api.put(API + "/users/ana/", json=user("ana"))
    api.delete(API + "/users/ana/", status=204)
    api.post(API + "/users/provision/", json={"0": {"status_code": "success", "data": user("zoe")}})
    api.post(API + "/groups/gis/users/", status=201, json=user("ana"))
    api.delete(API + "/groups/gis/users/ana/", status=204)
    api.post(API + "/groups/", status=201, json=group("gis", "GIS"))
    api.put(API + "/groups/gis/", json=group("gis", "GIS"))
    api.delete(API + "/groups/gis/", status=204)
    return api


def _url(name, kwargs, conn, drafts):
    from django.urls import reverse

    kw = {"conn": conn.slug, **kwargs}
    if kw.get("draft_id") == "DRAFT":
        kw["draft_id"] = drafts["invite"].pk
    if kw.get("draft_id") == "BATCH":
        kw["draft_id"] = drafts["batch"].pk
    return reverse(name, kwargs=kw)


def _drafts(actor, connection):
    invite = RowsDraft.objects.create(kind=DraftKind.INVITE, created_by=actor, connection=connection,
                                      rows=[{"line": 1, "target": "new@example.org", "label": "",
                                             "payload": {"email": "new@example.org"}}])
    invite.connections.set([connection])
    batch = RowsDraft.objects.create(kind=DraftKind.BATCH_ADD, created_by=actor, connection=connection,
                                     group_uid="gis", rows=[{"line": 1, "target": "ben", "label": "",
                                                            "payload": {"group_uid": "gis"}}])
    batch.connections.set([connection])
    return {"invite": invite, "batch": batch}


@pytest.mark.parametrize("role", ["admin", "operator", "viewer", "outsider"])
@pytest.mark.parametrize(("name", "method", "kwargs", "needed", "data"), VIEWS,
                         ids=[f"{v[0]}-{v[1]}" for v in VIEWS])
def test_role_matrix(role, name, method, kwargs, needed, data, cast, connection, client_as, portal_api, no_enqueue):
    actor = cast[role]
    drafts = _drafts(actor, connection)
    client = client_as(actor)
    url = _url(name, kwargs, connection, drafts)
    response = client.get(url) if method == "get" else client.post(url, data or {})
    if role == "outsider":
        assert response.status_code == 404
    elif RANK[role] < RANK[needed]:
        assert response.status_code == 403
        assert not [c for c in portal_api.calls if c.request.method != "GET"]  # nothing was written
    else:
        assert response.status_code in (200, 302), (response.status_code, getattr(response, "content", b"")[:500])


def main(response) -> str:
    """The page's own content (the header has the log-out form)."""
    html = response.content.decode()
    return html[html.index("<main"):html.index("</main>")]


def test_viewers_see_no_action_buttons(cast, client_as, connection, portal_api):
    viewer = client_as(cast["viewer"])
    users = main(viewer.get(f"/c/{connection.slug}/users/"))
    assert "Invite users" not in users and "Provision" not in users
    detail = main(viewer.get(f"/c/{connection.slug}/users/ana/"))
    assert "Edit permissions" not in detail and "Remove from" not in detail and "method=\"post\"" not in detail
    group_page = main(viewer.get(f"/c/{connection.slug}/groups/gis/"))
    assert "Add many users" not in group_page and "method=\"post\"" not in group_page


def test_operators_see_actions_but_not_admin_ones(cast, client_as, connection, portal_api):
    operator = client_as(cast["operator"])
    detail = operator.get(f"/c/{connection.slug}/users/ana/").content.decode()
    assert "Edit permissions" in detail and "Remove from the domain" not in detail
    group_page = operator.get(f"/c/{connection.slug}/groups/gis/").content.decode()
    assert "Add many users" in group_page and "Delete the group" not in group_page


def test_admins_see_the_remove_and_delete_forms(cast, client_as, connection, portal_api):
    admin = client_as(cast["admin"])
    assert "Remove from the domain" in admin.get(f"/c/{connection.slug}/users/ana/").content.decode()
    assert "Delete the group" in admin.get(f"/c/{connection.slug}/groups/gis/").content.decode()


def test_user_list_passes_search_sort_and_permission_filters_to_the_portal(cast, client_as, connection, portal_api):
    viewer = client_as(cast["viewer"])
    url = (f"/c/{connection.slug}/users/?search=ana&sort=last_seen_at&permissions=edit_dataset"
           f"&via_groups=on&limit=50&offset=50")
    page = viewer.get(url).content.decode()
    call = next(c for c in portal_api.calls if "/users/?" in c.request.url)
    from .conftest import query_of

    assert query_of(call) == {"search": ["ana"], "sort": ["last_seen_at"], "all_permissions": ["edit_dataset"],
                              "limit": ["50"], "offset": ["50"]}
    assert "ana@example.org" in page and "← Previous" in page


def test_direct_permission_filter(cast, client_as, connection, portal_api):
    client_as(cast["viewer"]).get(f"/c/{connection.slug}/users/?permissions=edit_domain")
    from .conftest import query_of

    call = next(c for c in portal_api.calls if "/users/?" in c.request.url)
    assert query_of(call)["permissions"] == ["edit_domain"] and "all_permissions" not in query_of(call)


def test_htmx_gets_only_the_table_fragment(cast, client_as, connection, portal_api):
    response = client_as(cast["viewer"]).get(f"/c/{connection.slug}/users/?search=a", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and 'id="user-table"' in html and 'hx-push-url="true"' in html
    assert "HX-Request" in response.get("Vary", "")
    groups = client_as(cast["viewer"]).get(f"/c/{connection.slug}/groups/", headers={"HX-Request": "true"})
    assert 'id="group-table"' in groups.content.decode() and "<html" not in groups.content.decode()


def test_export_streams_the_portals_csv_with_the_chosen_delimiter(cast, client_as, connection, portal_api):
    response = client_as(cast["viewer"]).get(f"/c/{connection.slug}/users/export/?delimiter=%3B")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    assert b"".join(response.streaming_content) == b"username;email\r\nana;ana@example.org\r\n"
    call = next(c for c in portal_api.calls if "/users/export/" in c.request.url)
    assert "delimiter=%3B" in call.request.url


def test_last_admin_refusal_is_shown_as_the_portal_says(cast, client_as, connection, api):
    api.delete(API + "/users/admin/", status=400, json={"error_code": "validation_error", "message": LAST_ADMIN,
                                                          "detail": {"non_field_errors": [LAST_ADMIN]}})
    api.get(API + "/users/admin/", json=user("admin", permissions=["edit_domain"]))
    api.get(API + "/groups/", json=paginated([]))
    admin = client_as(cast["admin"])
    response = admin.post(f"/c/{connection.slug}/users/admin/remove/", {"confirm": "admin"})
    assert response.status_code == 302 and response["Location"] == f"/c/{connection.slug}/users/admin/"
    assert LAST_ADMIN in admin.get(response["Location"]).content.decode()


def test_remove_needs_the_typed_confirmation(cast, client_as, connection, portal_api):
    response = client_as(cast["admin"]).post(f"/c/{connection.slug}/users/ana/remove/", {"confirm": "anna"})
    assert response.status_code == 200 and "does not match" in response.content.decode()
    assert not [c for c in portal_api.calls if c.request.method == "DELETE"]


def test_remote_validation_errors_land_on_form_fields(cast, client_as, connection, api):
    api.post(API + "/groups/", status=400, json={"error_code": "validation_error", "message": "Invalid input",
                                                 "detail": {"title": ["A group with this title already exists."]}})
    response = client_as(cast["operator"]).post(f"/c/{connection.slug}/groups/new/", {"title": "GIS"})
    html = response.content.decode()
    assert response.status_code == 200
    field = re.search(r'<label for="id_title">.*?</label>', html, re.S).group(0)
    assert "A group with this title already exists." in field


def test_invite_flow_preview_then_one_job(cast, client_as, connection, api, no_enqueue):
    api.get(API + "/groups/", json=paginated([group("gis", "GIS")]))
    client = client_as(cast["operator"])
    response = client.post(f"/c/{connection.slug}/users/invite/",
                           {"text": "email,groups\nana@example.org,GIS\nnope,\nana@example.org,\n"})
    assert response.status_code == 302
    preview = client.get(response["Location"]).content.decode()
    assert "1</strong> to send" in preview and "2</strong> rejected" in preview
    assert "not a valid e-mail address" in preview and "Duplicate of line 2" in preview
    assert not [c for c in api.calls if c.request.method == "POST"]  # nothing sent before confirming
    confirm = re.search(r'action="([^"]+/confirm/)"', preview).group(1)
    done = client.post(confirm)
    job = Job.objects.get()
    assert done.status_code == 302 and done["Location"] == job.get_absolute_url()
    assert job.kind == "user.invite" and job.total == 1
    assert job.items.get().payload == {"email": "ana@example.org", "groups": [{"uid": "gis"}]}


def test_invite_upload_in_wrong_encoding_shows_a_clear_message(cast, client_as, connection, api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api.get(API + "/groups/", json=paginated([]))
    upload = SimpleUploadedFile("people.csv", "email\nzoé@example.org\n".encode("latin-1"), "text/csv")
    response = client_as(cast["operator"]).post(f"/c/{connection.slug}/users/invite/", {"file": upload})
    assert response.status_code == 200 and "not UTF-8" in response.content.decode()


def test_a_draft_belongs_to_its_author(cast, client_as, connection, portal_api):
    drafts = _drafts(cast["operator"], connection)
    other = client_as(cast["admin"])
    assert other.get(f"/c/{connection.slug}/users/invite/{drafts['invite'].pk}/").status_code == 404


def test_provision_item_error_is_shown_on_the_form(cast, client_as, connection, api):
    api.get(API + "/groups/", json=paginated([]))
    api.post(API + "/users/provision/", json={"0": {"status_code": "error", "error": {
        "error_code": "validation_error", "message": "Invalid", "detail": {"email": ["Already used."]}}}})
    response = client_as(cast["operator"]).post(f"/c/{connection.slug}/users/provision/",
                                                {"email": "zoe@example.org", "identity_provider": "saml"})
    assert response.status_code == 200 and "Already used." in response.content.decode()


def test_history_restore_gets_the_whole_page(cast, client_as, connection, portal_api):
    response = client_as(cast["viewer"]).get(f"/c/{connection.slug}/users/", headers={
        "HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


def test_invite_on_several_connections_offers_only_those_where_you_operate(cast, client_as, connection, api,
                                                                          make_connection, no_enqueue,
                                                                          django_capture_on_commit_callbacks):
    from portaladmin.portals.models import Membership, Role

    other = make_connection("other", base_url="https://other.example.org")
    watched = make_connection("watched", base_url="https://watched.example.org")
    Membership.objects.create(user=cast["operator"], connection=other, role=Role.OPERATOR)
    Membership.objects.create(user=cast["operator"], connection=watched, role=Role.VIEWER)
    api.get(API + "/groups/", json=paginated([]))
    api.get("https://other.example.org/api/automation/v1.0/groups/", json=paginated([]))
    client = client_as(cast["operator"])
    form = main(client.get(f"/c/{connection.slug}/users/invite/"))
    assert "Other" in form and "Watched" not in form
    # a connection where the user is only a viewer cannot be slipped in
    refused = client.post(f"/c/{connection.slug}/users/invite/", {"text": "a@example.org", "also": [watched.pk]})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = _confirm(client, client.post(f"/c/{connection.slug}/users/invite/",
                                              {"text": "a@example.org\nb@example.org", "also": [other.pk]}))
    assert job.total == 4 and set(job.connections.values_list("slug", flat=True)) == {"demo", "other"}
    assert len(no_enqueue) == 2  # one chunk per connection


def test_operator_who_lost_the_role_on_a_target_cannot_confirm(cast, client_as, connection, api, make_connection,
                                                              no_enqueue):
    from portaladmin.portals.models import Membership, Role

    other = make_connection("other", base_url="https://other.example.org")
    membership = Membership.objects.create(user=cast["operator"], connection=other, role=Role.OPERATOR)
    api.get(API + "/groups/", json=paginated([]))
    api.get("https://other.example.org/api/automation/v1.0/groups/", json=paginated([]))
    client = client_as(cast["operator"])
    response = client.post(f"/c/{connection.slug}/users/invite/", {"text": "a@example.org", "also": [other.pk]})
    membership.role = Role.VIEWER
    membership.save()
    preview = client.get(response["Location"]).content.decode()
    confirm = re.search(r'action="([^"]+/confirm/)"', preview).group(1)
    assert client.post(confirm).status_code == 403
    assert not Job.objects.exists()


def _confirm(client, response):
    assert response.status_code == 302, response.content.decode()[:1500]
    preview = client.get(response["Location"]).content.decode()
    confirm = re.search(r'action="([^"]+/confirm/)"', preview).group(1)
    done = client.post(confirm)
    return Job.objects.get(pk=int(re.search(r"/jobs/(\d+)/", done["Location"]).group(1))), preview


def test_group_list_passes_search_and_sort_to_the_portal(cast, client_as, connection, portal_api):
    from .conftest import query_of

    html = client_as(cast["viewer"]).get(f"/c/{connection.slug}/groups/?search=gi&sort=user_count").content.decode()
    call = next(c for c in portal_api.calls if "/groups/?" in c.request.url)
    assert query_of(call) == {"search": ["gi"], "sort": ["user_count"], "limit": ["25"], "offset": ["0"]}
    assert "GIS" in html


def test_a_portal_error_on_the_list_is_shown_not_raised(cast, client_as, connection, api):
    api.get(API + "/users/", status=503, json={"error_code": "internal_error", "message": "Try later.",
                                               "trace_id": "t-1"})
    response = client_as(cast["viewer"]).get(f"/c/{connection.slug}/users/")
    assert response.status_code == 200 and "Try later. (trace id t-1)" in response.content.decode()


def test_unknown_user_is_404(cast, client_as, connection, api):
    api.get(API + "/users/nobody/", status=404, json={"error_code": "not_found", "message": "Not found."})
    assert client_as(cast["viewer"]).get(f"/c/{connection.slug}/users/nobody/").status_code == 404


# --- the invite preview warns about existing members; retry offers only what can change -------------------------

def _invite_preview(client, connection, text: str) -> str:
    response = client.post(f"/c/{connection.slug}/users/invite/", {"text": text})
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def test_invite_preview_warns_about_addresses_that_already_are_members(cast, client_as, connection, api):
    api.get(API + "/groups/", json=paginated([]))
    api.get(API + "/users/", json=paginated([user("ana", "Ana@Example.org"), user("bo", "bo@example.org")]))
    preview = _invite_preview(client_as(cast["operator"]), connection, "ana@example.org\nnew@example.org\n")
    assert 'id="already-members"' in preview and "1 of these addresses already is a member" in preview
    rows = re.findall(r"<tr><td>\d+</td>.*?</tr>", preview, re.S)
    assert len(rows) == 2 and "data-already-member" in rows[0] and "data-already-member" not in rows[1]
    assert len([c for c in api.calls if c.request.url.startswith(API + "/users/")]) == 1  # one read of the users


def test_invite_preview_without_members_says_nothing_and_a_failing_read_is_said(cast, client_as, connection, api):
    api.get(API + "/groups/", json=paginated([]))
    api.get(API + "/users/", json=paginated([user("bo", "bo@example.org")]))
    c = client_as(cast["operator"])
    assert "already-members" not in _invite_preview(c, connection, "new@example.org\n")
    api.replace("GET", API + "/users/", status=503, json={"error_code": "internal_error", "message": "Down."})
    preview = _invite_preview(c, connection, "other@example.org\n")
    assert "Could not check who is already a member" in preview and "Send 1 row" in preview
