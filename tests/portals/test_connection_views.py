"""Connection profiles: create, edit (key write-only), bad input, test connection, members."""

import pytest
import responses
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.portals.models import Connection, Health, Membership, Role

from ..conftest import CANARY_KEY


@pytest.fixture
def admin_client(client_as, cast):
    return client_as(cast["admin"])


def form_data(**overrides):
    data = {"name": "Paris", "slug": "paris", "base_url": "data.paris.example.org", "api_key": "key-abcdef123456",
            "connect_timeout": "", "read_timeout": "", "request_budget": "", "notes": ""}
    data.update(overrides)
    return data


def test_create_normalizes_url_and_encrypts_key(client_as, cast):
    response = client_as(cast["superuser"]).post(reverse("portals:create"), form_data())
    assert response.status_code == 302
    conn = Connection.objects.get(slug="paris")
    assert conn.base_url == "https://data.paris.example.org"
    assert conn.api_base == "https://data.paris.example.org/api/automation/v1.0"
    assert "key-abcdef123456" not in conn.api_key_encrypted
    assert conn.api_key == "key-abcdef123456"
    assert conn.api_key_last4 == "3456"
    assert AuditEvent.objects.filter(action="connection.created", connection=conn).exists()


@pytest.mark.parametrize("field, value, message", [
    ("base_url", "ftp://x.org", "Only https://"),
    ("base_url", "https://user:pw@x.org", "must not contain a user name"),
    ("base_url", "", "This field is required"),
    ("api_key", "", "Enter the portal API key"),
    ("api_key", "has space", "must not contain spaces"),
    ("slug", "Not a slug!", "Enter a valid"),
    ("name", "x" * 101, "at most 100 characters"),
    ("connect_timeout", "999", "At most 300 seconds"),
])
def test_bad_input_shows_field_errors_and_saves_nothing(client_as, cast, field, value, message):
    response = client_as(cast["superuser"]).post(reverse("portals:create"), form_data(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Connection.objects.filter(slug="paris").exists()


def test_duplicate_slug_is_refused(client_as, cast, connection):
    response = client_as(cast["superuser"]).post(reverse("portals:create"), form_data(slug=connection.slug))
    assert "already exists" in response.content.decode()
    assert Connection.objects.count() == 1


def test_http_refused_when_not_allowed(client_as, cast, settings):
    settings.PORTALS_ALLOW_HTTP = False
    response = client_as(cast["superuser"]).post(reverse("portals:create"), form_data(base_url="http://x.example.org"))
    assert "Only https://" in response.content.decode()


def test_private_address_refused_when_not_allowed(client_as, cast, settings):
    settings.PORTALS_ALLOW_PRIVATE_NETWORKS = False
    response = client_as(cast["superuser"]).post(reverse("portals:create"), form_data(base_url="https://127.0.0.1"))
    assert "not a public internet address" in response.content.decode()
    assert not Connection.objects.filter(slug="paris").exists()


def test_edit_never_renders_key_and_empty_keeps_it(admin_client, connection):
    url = reverse("portals:edit", kwargs={"conn": connection.slug})
    html = admin_client.get(url).content.decode()
    assert CANARY_KEY not in html
    assert connection.api_key_encrypted not in html
    response = admin_client.post(url, form_data(slug=connection.slug, name="Renamed", base_url=connection.base_url,
                                                api_key=""))
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.name == "Renamed"
    assert connection.api_key == CANARY_KEY
    assert not AuditEvent.objects.filter(action="connection.key_replaced").exists()


@pytest.mark.parametrize("new_url", [
    "https://collector.example.net",  # another host
    "https://data.example.org:8443",  # another port
    "http://data.example.org",  # another scheme
])
def test_changing_the_host_without_the_key_is_refused(admin_client, connection, new_url):
    url = reverse("portals:edit", kwargs={"conn": connection.slug})
    response = admin_client.post(url, form_data(slug=connection.slug, base_url=new_url, api_key=""))
    assert response.status_code == 200
    assert "enter the API key for it again" in response.content.decode()
    connection.refresh_from_db()
    assert connection.base_url == "https://data.example.org"
    assert connection.api_key == CANARY_KEY
    assert not AuditEvent.objects.filter(action="connection.edited").exists()


def test_changing_the_host_with_a_new_key_is_audited_with_both_urls(admin_client, connection):
    url = reverse("portals:edit", kwargs={"conn": connection.slug})
    response = admin_client.post(url, form_data(slug=connection.slug, base_url="data.other.example.org",
                                                api_key="other-key-0000aaaa"))
    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.base_url, connection.api_key) == ("https://data.other.example.org", "other-key-0000aaaa")
    event = AuditEvent.objects.get(action="connection.edited")
    assert event.extra["base_url"] == {"from": "https://data.example.org", "to": "https://data.other.example.org"}
    assert AuditEvent.objects.filter(action="connection.key_replaced").exists()


def test_changing_only_the_path_keeps_the_key(admin_client, make_connection, cast):
    sandbox = make_connection("lyon", base_url="http://127.0.0.1:8000/sandbox/lyon")
    Membership.objects.create(user=cast["admin"], connection=sandbox, role=Role.ADMIN)
    url = reverse("portals:edit", kwargs={"conn": sandbox.slug})
    response = admin_client.post(url, form_data(slug="lyon", base_url="http://127.0.0.1:8000/sandbox/bretagne",
                                                api_key=""))
    assert response.status_code == 302
    sandbox.refresh_from_db()
    assert (sandbox.base_url, sandbox.api_key) == ("http://127.0.0.1:8000/sandbox/bretagne", CANARY_KEY)
    event = AuditEvent.objects.get(action="connection.edited")
    assert event.extra["base_url"]["to"] == "http://127.0.0.1:8000/sandbox/bretagne"


def test_replacing_key_is_audited_without_the_key(admin_client, connection):
    url = reverse("portals:edit", kwargs={"conn": connection.slug})
    admin_client.post(url, form_data(slug=connection.slug, api_key="new-key-0000ffff"))
    connection.refresh_from_db()
    assert connection.api_key == "new-key-0000ffff"
    event = AuditEvent.objects.get(action="connection.key_replaced")
    assert "new-key-0000ffff" not in str(event.extra) + event.error + event.target


def test_delete_needs_typed_slug(admin_client, connection):
    url = reverse("portals:delete", kwargs={"conn": connection.slug})
    admin_client.post(url, {"confirm_slug": "wrong"})
    assert Connection.objects.filter(pk=connection.pk).exists()
    admin_client.post(url, {"confirm_slug": connection.slug})
    assert not Connection.objects.filter(pk=connection.pk).exists()
    assert AuditEvent.objects.filter(action="connection.deleted", target=connection.slug).exists()


@responses.activate
def test_test_connection_ok_stores_health(client_as, cast, connection):
    responses.get("https://data.example.org/api/automation/v1.0/datasets/",
                  json={"total_count": 42, "next": None, "previous": None, "results": []})
    response = client_as(cast["viewer"]).post(reverse("portals:test", kwargs={"conn": connection.slug}),
                                              headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="health"' in html and "<html" not in html
    assert "Reachable" in html and "42" in html
    connection.refresh_from_db()
    assert connection.health == Health.OK and connection.last_dataset_count == 42
    assert connection.last_latency_ms is not None and connection.last_ok_at is not None


@responses.activate
@pytest.mark.parametrize("status, health, text", [(401, Health.AUTH_FAILED, "refused the key"),
                                                  (403, Health.AUTH_FAILED, "refused the key"),
                                                  (503, Health.UNREACHABLE, "cannot be reached")])
def test_test_connection_failures(client_as, cast, connection, status, health, text):
    responses.get("https://data.example.org/api/automation/v1.0/datasets/", status=status,
                  json={"error_code": "x", "message": "nope"})
    html = client_as(cast["admin"]).post(reverse("portals:test", kwargs={"conn": connection.slug})).content.decode()
    assert text in html
    connection.refresh_from_db()
    assert connection.health == health


def test_members_add_change_remove(admin_client, cast, connection):
    url = reverse("portals:members", kwargs={"conn": connection.slug})
    admin_client.post(url, {"username": "charlie", "role": "operator"})
    m = Membership.objects.get(user=cast["outsider"], connection=connection)
    assert m.role == Role.OPERATOR
    admin_client.post(reverse("portals:member-change", kwargs={"conn": connection.slug, "pk": m.pk}), {"role": "viewer"})
    m.refresh_from_db()
    assert m.role == Role.VIEWER
    admin_client.post(reverse("portals:member-remove", kwargs={"conn": connection.slug, "pk": m.pk}))
    assert not Membership.objects.filter(pk=m.pk).exists()
    actions = list(AuditEvent.objects.filter(action__startswith="membership.").values_list("action", flat=True))
    assert sorted(actions) == ["membership.added", "membership.changed", "membership.removed"]


def test_members_bad_input(admin_client, connection):
    url = reverse("portals:members", kwargs={"conn": connection.slug})
    html = admin_client.post(url, {"username": "ghost", "role": "admin"}).content.decode()
    assert "No active portaladmin user" in html
    html = admin_client.post(url, {"username": "vera", "role": "admin"}).content.decode()
    assert "already has a role" in html


def test_last_admin_cannot_be_demoted(admin_client, cast, connection):
    m = Membership.objects.get(user=cast["admin"], connection=connection)
    admin_client.post(reverse("portals:member-change", kwargs={"conn": connection.slug, "pk": m.pk}), {"role": "viewer"})
    m.refresh_from_db()
    assert m.role == Role.ADMIN
