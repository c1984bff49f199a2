"""Datasource connections (sandbox over real HTTP, and `responses` for refusals) and the secrets canary:
a datasource password and a newly created key appear in no page but the one-time reveal, no log line, no audit
row, no job argument, no e-mail."""

import logging

import pytest
import responses
from django.core import mail
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.jobs.models import Job
from portaladmin.sandbox.models import SandboxObject

PASSWORD = "ds-canary-pw-7Q2x9rT"
HEADER = "hdr-canary-3Kp8vW2"


@pytest.fixture
def connection(sandbox_connection):
    """The cast's connection is a sandbox portal answering over real HTTP (overrides conftest's)."""
    return sandbox_connection("dsrc", slug="demo", datasets=1, users=1, groups=1, harvesters=0, pages=0)


def _form(**over):
    data = {"type": "http", "url": "https://files.example.org/data", "is_reusable": "on", "username": "loader",
            "password": PASSWORD, "header_name": "X-Token", "header_value": HEADER}
    data.update(over)
    return data


def test_list_create_edit_delete_with_write_only_secrets(client_as, cast, connection):
    base = reverse("portals:datasources", kwargs={"conn": connection.slug})
    assert "co_sandbx" in client_as(cast["viewer"]).get(base).content.decode()  # viewers read the list
    admin = client_as(cast["admin"])
    answer = admin.post(reverse("portals:datasource-create", kwargs={"conn": connection.slug}), _form())
    assert answer.status_code == 302
    made = SandboxObject.objects.exclude(key="co_sandbx").get(kind="connection", portal__name="dsrc")
    assert made.data["auth"] == {"type": "basic_auth", "username": "loader", "password": PASSWORD}
    listing = admin.get(base).content.decode()
    assert made.key in listing and "as loader" in listing and "X-Token" in listing
    edit = reverse("portals:datasource-edit", kwargs={"conn": connection.slug, "ds_uid": made.key})
    form = admin.get(edit).content.decode()
    assert 'value="https://files.example.org/data"' in form and 'value="loader"' in form
    # an edit without the password keeps the stored one
    admin.post(edit, _form(url="https://files.example.org/v2", password="", header_value=""))
    made.refresh_from_db()
    assert made.data["url"] == "https://files.example.org/v2" and made.data["auth"]["password"] == PASSWORD
    assert made.data["headers"] == [{"name": "X-Token", "value": HEADER}]
    # a new user name needs its password
    html = admin.post(edit, _form(username="other", password="")).content.decode()
    assert "Enter the password for this user name" in html
    admin.post(reverse("portals:datasource-delete", kwargs={"conn": connection.slug, "ds_uid": made.key}))
    assert not SandboxObject.objects.filter(kind="connection", key=made.key).exists()
    actions = sorted(AuditEvent.objects.filter(action__startswith="datasource.").values_list("action", flat=True))
    assert actions == ["datasource.created", "datasource.deleted", "datasource.edited"]


@pytest.mark.parametrize("data, field, text", [
    ({"url": "files.example.org"}, "url", "Enter a full address starting with http://"),
    ({"url": "https://u:p@files.example.org"}, "url", "not in the URL"),
    ({"username": ""}, "username", "Enter the user name that goes with the password"),
    ({"type": "ftp", "url": "https://x.org"}, "url", "ftp://"),
])
def test_bad_input_is_refused_before_calling_the_portal(client_as, cast, connection, data, field, text):
    html = client_as(cast["admin"]).post(reverse("portals:datasource-create", kwargs={"conn": connection.slug}),
                                         _form(**data)).content.decode()
    assert text in html and PASSWORD not in html
    assert SandboxObject.objects.filter(kind="connection", portal__name="dsrc").count() == 1


@pytest.mark.parametrize("who, status", [("outsider", 404), ("viewer", 403), ("operator", 403)])
def test_changes_are_for_admins(client_as, cast, connection, who, status):
    client = client_as(cast[who])
    assert client.post(reverse("portals:datasource-create", kwargs={"conn": connection.slug}),
                       _form()).status_code == status
    for name in ("portals:datasource-edit", "portals:datasource-delete"):
        url = reverse(name, kwargs={"conn": connection.slug, "ds_uid": "co_sandbx"})
        assert client.post(url, _form()).status_code == status
    assert SandboxObject.objects.filter(kind="connection", portal__name="dsrc").count() == 1
    assert not AuditEvent.objects.filter(action__startswith="datasource.").exists()


def test_a_portal_refusal_lands_on_the_fields_and_an_echoed_password_is_redacted(client_as, cast, make_connection):
    other = make_connection("paris", base_url="https://data.paris.example.org")
    from portaladmin.portals.models import Membership, Role
    Membership.objects.create(user=cast["admin"], connection=other, role=Role.ADMIN)
    with responses.RequestsMock() as rsps:
        rsps.post("https://data.paris.example.org/api/automation/v1.0/datasource_connections/", status=400, json={
            "error_code": "validation_error", "message": "Invalid",
            "detail": {"url": ["Host unreachable."], "auth": {"password": [f"'{PASSWORD}' is too weak."]}}})
        html = client_as(cast["admin"]).post(reverse("portals:datasource-create", kwargs={"conn": "paris"}),
                                             _form()).content.decode()
    assert "Host unreachable." in html and "is too weak" in html and PASSWORD not in html
    event = AuditEvent.objects.get(action="datasource.created")
    assert event.outcome == "failure" and PASSWORD not in event.error


def test_canary_secrets_appear_nowhere_but_the_one_time_reveal(client_as, cast, connection, caplog, no_enqueue):
    caplog.set_level(logging.DEBUG)
    admin = client_as(cast["admin"])
    slug = connection.slug
    admin.post(reverse("portals:test", kwargs={"conn": slug}))
    admin.post(reverse("portals:datasource-create", kwargs={"conn": slug}), _form())
    uid = SandboxObject.objects.exclude(key="co_sandbx").get(kind="connection", portal__name="dsrc").key
    admin.post(reverse("portals:datasource-edit", kwargs={"conn": slug, "ds_uid": uid}), _form(password=PASSWORD))
    reveal = admin.post(reverse("portals:apikeys", kwargs={"conn": slug}),
                        {"label": "canary", "permissions": ["edit_domain"], "reveal": "on"}, follow=True)
    connection.refresh_from_db()
    new_key = connection.api_key
    assert new_key in reveal.content.decode()  # the one place it may be
    secrets = (PASSWORD, HEADER, new_key)
    pages = [reverse("portals:datasources", kwargs={"conn": slug}),
             reverse("portals:datasource-edit", kwargs={"conn": slug, "ds_uid": uid}),
             reverse("portals:apikeys", kwargs={"conn": slug}), connection.get_absolute_url(),
             reverse("portals:edit", kwargs={"conn": slug}), reverse("portals:list"), reverse("home"),
             reverse("audit:list"), reverse("audit:export"), reverse("datasets:list", kwargs={"conn": slug})]
    for url in pages:
        answer = admin.get(url)
        body = (b"".join(answer.streaming_content) if answer.streaming else answer.content).decode()
        assert not any(s in body for s in secrets), url
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert not any(s in logged for s in secrets)
    rows = str(list(AuditEvent.objects.values()))
    assert "datasource.created" in rows and not any(s in rows for s in secrets)
    jobs = str(list(Job.objects.values())) + str(no_enqueue)
    assert not any(s in jobs for s in secrets)
    assert not any(s in str(m.message()) for m in mail.outbox for s in secrets)


def test_who_may_use_a_datasource_connection_is_listed_and_edited(client_as, cast, connection):
    edit = reverse("portals:datasource-edit", kwargs={"conn": connection.slug, "ds_uid": "co_sandbx"})
    access = reverse("portals:datasource-access", kwargs={"conn": connection.slug, "ds_uid": "co_sandbx"})
    remove = reverse("portals:datasource-access-remove", kwargs={"conn": connection.slug, "ds_uid": "co_sandbx"})
    admin = client_as(cast["admin"])
    assert "Only its owner and the portal" in admin.get(edit).content.decode()
    admin.post(access, {"kind": "user", "target": "admin"})
    admin.post(access, {"kind": "group", "target": "content_designers", "manage": "on"})
    page = admin.get(edit).content.decode()
    assert "user <span class=\"mono\">admin</span></td><td>no" in page
    assert "group <span class=\"mono\">content_designers</span></td><td>yes" in page
    rules = {o.key: o.data for o in SandboxObject.objects.filter(portal__name="dsrc", kind__endswith="_sec_user")}
    assert rules["admin"]["permissions"] == []
    admin.post(access, {"kind": "user", "target": "admin", "manage": "on"})  # an existing rule is updated
    rules = {o.key: o.data for o in SandboxObject.objects.filter(portal__name="dsrc", kind__endswith="_sec_user")}
    assert rules["admin"]["permissions"] == ["manage_connection"]
    admin.post(remove, {"kind": "group", "target": "content_designers"})
    assert not SandboxObject.objects.filter(portal__name="dsrc", kind__endswith="_sec_group").exists()
    # bad input is said, nothing is sent
    answer = admin.post(access, {"kind": "user", "target": "a/b"}, follow=True).content.decode()
    assert "Access not changed: A user name or a group id, without" in answer
    # operators and viewers may not change it
    for role in ("operator", "viewer"):
        assert client_as(cast[role]).post(access, {"kind": "user", "target": "admin"}).status_code == 403
    actions = list(AuditEvent.objects.filter(action__startswith="datasource.access").order_by("id")
                   .values_list("action", "outcome"))
    assert actions == [("datasource.access_set", "success")] * 3 + [("datasource.access_removed", "success")]
