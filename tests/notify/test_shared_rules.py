"""Rules an admin makes for a connection, or a superuser for the team: who receives, and nobody hears about a
connection they have no role on (checked when sending, not only when the rule was made)."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse

from portaladmin.notify.events import event_emit
from portaladmin.notify.models import Audience, Delivery, DeliveryStatus, EventKind, Rule, Schedule, Scope
from portaladmin.notify.services import delivery_send, digest_send
from portaladmin.portals.models import Membership, Role


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.JOBS_NOTIFY_ON_FAILURE = False


@pytest.fixture
def team(make_connection, make_user):
    lyon, rennes = make_connection("lyon", name="Lyon"), make_connection("rennes", name="Rennes")
    people = {
        "alice": make_user("alice", role=Role.ADMIN, connection=lyon),  # admin of Lyon, viewer of Rennes
        "oscar": make_user("oscar", role=Role.OPERATOR, connection=lyon),
        "vera": make_user("vera", role=Role.VIEWER, connection=lyon),
        "remi": make_user("remi", role=Role.ADMIN, connection=rennes),  # Rennes only
        "sam": make_user("sam", superuser=True),
    }
    Membership.objects.create(user=people["alice"], connection=rennes, role=Role.VIEWER)
    Membership.objects.create(user=people["oscar"], connection=rennes, role=Role.OPERATOR)
    return lyon, rennes, people


def shared_rule(owner, *, scope, connections=(), events=(EventKind.JOB_FAILED,), **fields) -> Rule:
    rule = Rule.objects.create(owner=owner, name=fields.pop("name", "shared"), scope=scope,
                               events=[str(e) for e in events], **fields)
    rule.connections.set(connections)
    return rule


def send_all(rung):
    for delivery_id in list(rung):
        delivery_send(delivery_id=delivery_id)
    rung.clear()


def recipients() -> list[str]:
    return sorted(to for m in mail.outbox for to in m.to)


def test_connection_rule_reaches_everyone_with_a_role_there_and_no_one_else(team, finish_job, rung):
    lyon, rennes, p = team
    shared_rule(p["alice"], scope=Scope.CONNECTION, connections=[lyon])
    finish_job(p["oscar"], {lyon: 3}, failed=3)
    send_all(rung)
    assert recipients() == ["alice@example.org", "oscar@example.org", "vera@example.org"]  # not remi, not sam
    assert len({m.subject for m in mail.outbox}) == 1 and Delivery.objects.count() == 1  # one delivery, one row
    # a job on Lyon AND Rennes: only people with a role on both hear of it
    mail.outbox.clear()
    finish_job(p["oscar"], {lyon: 1, rennes: 1}, failed=2)
    send_all(rung)
    assert recipients() == ["alice@example.org", "oscar@example.org"]
    # an event on Rennes alone does not match a rule for Lyon
    mail.outbox.clear()
    finish_job(p["oscar"], {rennes: 1}, failed=1)
    assert not rung and Delivery.objects.count() == 2


def test_roles_are_checked_when_sending(team, finish_job, rung):
    lyon, rennes, p = team
    rule = shared_rule(p["alice"], scope=Scope.CONNECTION, connections=[lyon], audience=Audience.ADDRESSES,
                       addresses="vera@example.org\nremi@example.org\nstranger@elsewhere.example")
    finish_job(p["oscar"], {lyon: 1}, failed=1)
    send_all(rung)
    assert recipients() == ["vera@example.org"]  # remi has no role on Lyon; a stranger none anywhere
    # vera loses her role before the next event is sent: nobody is left, the delivery is skipped (not a failure)
    mail.outbox.clear()
    finish_job(p["oscar"], {lyon: 1}, failed=1)
    Membership.objects.filter(user=p["vera"], connection=lyon).delete()
    send_all(rung)
    latest = Delivery.objects.filter(rule=rule).first()
    assert not mail.outbox and latest.status == DeliveryStatus.SKIPPED and "role" in latest.last_error
    rule.refresh_from_db()
    assert rule.failing_since is None
    # the admin loses the admin role on Lyon: the rule stops, even for people who still have a role
    shared_rule(p["alice"], scope=Scope.CONNECTION, connections=[lyon], name="everyone")
    finish_job(p["oscar"], {lyon: 1}, failed=1)
    Membership.objects.filter(user=p["alice"], connection=lyon).update(role=Role.VIEWER)  # before it is sent
    send_all(rung)
    assert not mail.outbox
    assert set(Delivery.objects.filter(rule__name="everyone").values_list("status", flat=True)) == {"skipped"}
    finish_job(p["oscar"], {lyon: 1}, failed=1)  # and later events no longer match it at all
    assert Delivery.objects.filter(rule__name="everyone").count() == 1


def test_team_rule_of_a_superuser_and_its_digest_per_person(team, rung):
    lyon, rennes, p = team
    rule = shared_rule(p["sam"], scope=Scope.TEAM, events=[EventKind.CONNECTION_UNREACHABLE],
                       schedule=Schedule.DIGEST, digest_hour=8, timezone="UTC")
    at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    for conn in (lyon, rennes):
        event_emit(kind=EventKind.CONNECTION_UNREACHABLE, dedup_key=f"t:{conn.pk}", connections=[conn],
                   subject=f"{conn.name} is unreachable", at=at)
    assert Delivery.objects.filter(rule=rule, status=DeliveryStatus.QUEUED).count() == 2
    assert digest_send(rule_id=rule.pk, now=datetime(2026, 3, 3, 8, 0, tzinfo=UTC)) == DeliveryStatus.SENT
    got = {m.to[0]: m.body for m in mail.outbox}
    assert sorted(got) == ["alice@example.org", "oscar@example.org", "remi@example.org", "vera@example.org"]
    assert "Lyon is unreachable" in got["vera@example.org"] and "Rennes" not in got["vera@example.org"]
    assert "Rennes is unreachable" in got["remi@example.org"] and "Lyon is" not in got["remi@example.org"]
    assert "Lyon is unreachable" in got["alice@example.org"] and "Rennes is unreachable" in got["alice@example.org"]
    # a team rule whose owner is no longer a superuser stops
    p["sam"].is_superuser = False
    p["sam"].save()
    event_emit(kind=EventKind.CONNECTION_UNREACHABLE, dedup_key="t:again", connections=[lyon],
               subject="Lyon is unreachable", at=at)
    assert not Delivery.objects.filter(rule=rule, status=DeliveryStatus.QUEUED).exists()


FORM = {"name": "ops", "events": ["job.failed"], "channel": "email", "schedule": "immediate", "digest_hour": 8,
        "timezone": "UTC", "active": "on"}


def test_form_offers_and_checks_scopes_by_role(team, client_as):
    lyon, rennes, p = team
    url = reverse("notify:create")
    # a viewer / operator sees no scope choice and cannot forge one
    operator = client_as(p["oscar"])
    assert 'name="scope"' in operator.get(url).content.decode() and "For the whole team" not in \
        operator.get(url).content.decode()
    answer = operator.post(url, FORM | {"scope": "connection", "connections": [lyon.slug]})
    assert answer.status_code == 200 and "Select a valid choice" in answer.content.decode()
    assert operator.post(url, FORM | {"scope": "team"}).status_code == 200 and not Rule.objects.exists()
    # an admin of Lyon: a connection rule for Lyon, not for Rennes (viewer there), and never for the team
    admin = client_as(p["alice"])
    page = admin.get(url).content.decode()
    assert "For the people of some connections" in page and "For the whole team" not in page
    answer = admin.post(url, FORM | {"scope": "connection", "connections": [lyon.slug, rennes.slug]})
    assert "You are not an admin of Rennes" in answer.content.decode()
    answer = admin.post(url, FORM | {"scope": "connection"})
    assert "Choose the connections this rule is for." in answer.content.decode()
    answer = admin.post(url, FORM | {"scope": "connection", "connections": [lyon.slug], "audience": "addresses",
                                     "addresses": "vera@example.org\nnot-an-address"})
    assert "“not-an-address” is not an e-mail address." in answer.content.decode()
    answer = admin.post(url, FORM | {"scope": "connection", "connections": [lyon.slug], "audience": "addresses",
                                     "addresses": "vera@example.org, remi@example.org"})
    assert "remi@example.org is nobody with a role on these connections" in answer.content.decode()
    assert not Rule.objects.exists()
    answer = admin.post(url, FORM | {"scope": "connection", "connections": [lyon.slug], "audience": "addresses",
                                     "addresses": "vera@example.org, oscar@example.org"})
    rule = Rule.objects.get()
    assert answer.status_code == 302 and rule.scope == Scope.CONNECTION
    assert rule.address_list == ["vera@example.org", "oscar@example.org"]
    detail = admin.get(rule.get_absolute_url()).content.decode()
    assert "vera@example.org, oscar@example.org" in detail
    # a personal rule keeps no audience or addresses whatever was posted
    admin.post(url, FORM | {"name": "mine", "scope": "personal", "audience": "addresses", "addresses": "x@y.example"})
    mine = Rule.objects.get(name="mine")
    assert mine.scope == Scope.PERSONAL and mine.addresses == "" and mine.audience == Audience.ROLES
    # a superuser: the team
    superuser = client_as(p["sam"])
    assert "For the whole team" in superuser.get(url).content.decode()
    assert superuser.post(url, FORM | {"name": "team", "scope": "team"}).status_code == 302
    assert Rule.objects.get(name="team").scope == Scope.TEAM
