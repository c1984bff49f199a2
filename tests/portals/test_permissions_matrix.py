"""Who may see and do what on connection pages: viewer / operator / admin / outsider / anonymous."""

import pytest
from django.urls import reverse

from portaladmin.portals.models import Connection, Membership, Role

READ_PAGES = ["portals:detail"]
ADMIN_PAGES = ["portals:edit", "portals:members"]


@pytest.mark.parametrize("name", READ_PAGES + ADMIN_PAGES)
def test_anonymous_is_sent_to_login(client, connection, name):
    response = client.get(reverse(name, kwargs={"conn": connection.slug}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who, name, expected", [
    ("viewer", "portals:detail", 200), ("operator", "portals:detail", 200), ("admin", "portals:detail", 200),
    ("outsider", "portals:detail", 404), ("superuser", "portals:detail", 200),
    ("viewer", "portals:edit", 403), ("operator", "portals:edit", 403), ("admin", "portals:edit", 200),
    ("outsider", "portals:edit", 404),
    ("viewer", "portals:members", 403), ("operator", "portals:members", 403), ("admin", "portals:members", 200),
    ("outsider", "portals:members", 404), ("superuser", "portals:members", 200),
])
def test_page_status_by_role(client_as, cast, connection, who, name, expected):
    response = client_as(cast[who]).get(reverse(name, kwargs={"conn": connection.slug}))
    assert response.status_code == expected


@pytest.mark.parametrize("who, expected", [("viewer", 403), ("operator", 403), ("outsider", 404)])
def test_lower_roles_cannot_post_admin_actions(client_as, cast, connection, who, expected):
    c = client_as(cast[who])
    slug = connection.slug
    membership = Membership.objects.get(user=cast["viewer"])
    posts = [
        (reverse("portals:edit", kwargs={"conn": slug}), {"name": "Hacked", "slug": slug, "base_url": "https://x.org"}),
        (reverse("portals:delete", kwargs={"conn": slug}), {"confirm_slug": slug}),
        (reverse("portals:members", kwargs={"conn": slug}), {"username": "charlie", "role": "admin"}),
        (reverse("portals:member-change", kwargs={"conn": slug, "pk": membership.pk}), {"role": "admin"}),
        (reverse("portals:member-remove", kwargs={"conn": slug, "pk": membership.pk}), {}),
    ]
    for url, data in posts:
        assert c.post(url, data).status_code == expected, url
    connection.refresh_from_db()
    assert connection.name == "Demo"
    assert Membership.objects.get(pk=membership.pk).role == Role.VIEWER


@pytest.mark.parametrize("who, sees_admin_buttons", [("viewer", False), ("operator", False), ("admin", True)])
def test_action_buttons_only_for_admins(client_as, cast, connection, who, sees_admin_buttons):
    html = client_as(cast[who]).get(reverse("portals:detail", kwargs={"conn": connection.slug})).content.decode()
    assert ("Edit or replace key" in html) is sees_admin_buttons
    assert ("Delete connection" in html) is sees_admin_buttons
    assert "Test connection" in html


def test_outsider_does_not_see_connection_in_lists(client_as, cast, connection, make_connection):
    make_connection("other")
    html = client_as(cast["outsider"]).get(reverse("portals:list")).content.decode()
    assert "Demo" not in html and "Other" not in html
    html = client_as(cast["viewer"]).get(reverse("portals:list")).content.decode()
    assert "Demo" in html and ">Other<" not in html


def test_unknown_slug_is_404(client_as, cast):
    assert client_as(cast["superuser"]).get(reverse("portals:detail", kwargs={"conn": "nope"})).status_code == 404


def test_activity_page_hides_other_connections(client_as, cast, connection, make_connection):
    from portaladmin.audit.services import audit_record

    other = make_connection("secret-portal", name="Secret portal")
    audit_record(action="dataset.publish", actor=cast["superuser"], connection=other, target="da_hidden")
    audit_record(action="dataset.publish", actor=cast["superuser"], connection=connection, target="da_visible")
    html = client_as(cast["viewer"]).get(reverse("audit:list")).content.decode()
    assert "da_visible" in html and "da_hidden" not in html
    csv_body = b"".join(client_as(cast["viewer"]).get(reverse("audit:export")).streaming_content).decode()
    assert "da_visible" in csv_body and "da_hidden" not in csv_body


def test_team_page_is_for_superusers(client_as, cast):
    assert client_as(cast["admin"]).get(reverse("accounts:users")).status_code in (302, 403)
    assert client_as(cast["superuser"]).get(reverse("accounts:users")).status_code == 200


NEW = {"name": "Mine", "slug": "mine", "base_url": "https://mine.example.org", "api_key": "k-123456789"}


@pytest.mark.parametrize("who", ["outsider", "viewer", "operator", "admin"])
def test_adding_a_connection_needs_the_permission(client_as, cast, who):
    c = client_as(cast[who])
    assert c.get(reverse("portals:create")).status_code == 403
    assert c.post(reverse("portals:create"), NEW).status_code == 403
    assert not Connection.objects.filter(slug="mine").exists()
    for page in (reverse("portals:list"), reverse("home")):
        assert reverse("portals:create") not in c.get(page).content.decode(), page


def test_superuser_sees_and_uses_add_a_connection(client_as, cast):
    c = client_as(cast["superuser"])
    assert reverse("portals:create") in c.get(reverse("portals:list")).content.decode()
    assert c.post(reverse("portals:create"), NEW).status_code == 302
    assert Connection.objects.filter(slug="mine").exists()


def test_permission_given_on_the_team_page_lets_a_person_add_and_administer_a_connection(client_as, cast, client):
    from portaladmin.audit.models import AuditEvent

    person = cast["outsider"]
    toggle = reverse("accounts:toggle-add-connections", kwargs={"pk": person.pk})
    # only superusers give it
    assert client_as(cast["admin"]).post(toggle, {"allowed": "1"}).status_code == 403
    root = client_as(cast["superuser"])
    team = root.get(reverse("accounts:users")).content.decode()
    assert toggle in team and "No · allow: let charlie add connections" in team
    assert root.post(toggle, {"allowed": "1"}).status_code == 302
    assert "Yes · revoke: stop charlie adding connections" in root.get(reverse("accounts:users")).content.decode()
    assert AuditEvent.objects.filter(action="team.can_add_connections_granted", target="charlie").exists()

    c = client_as(person)
    assert reverse("portals:create") in c.get(reverse("portals:list")).content.decode()
    assert c.post(reverse("portals:create"), NEW).status_code == 302
    conn = Connection.objects.get(slug="mine")
    assert Membership.objects.get(connection=conn, user=person).role == Role.ADMIN

    client_as(cast["superuser"]).post(toggle, {"allowed": "0"})
    assert AuditEvent.objects.filter(action="team.can_add_connections_revoked", target="charlie").exists()
    c = client_as(person)
    assert c.get(reverse("portals:create")).status_code == 403
    assert reverse("portals:create") not in c.get(reverse("portals:list")).content.decode()
