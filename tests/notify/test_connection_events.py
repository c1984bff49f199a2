""""Connection unreachable or key refused/revoked": the periodic health check and revoking the connection's own key
are told once each (and the recovery once), against the sandbox portal over real HTTP."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portaladmin.notify.models import Event, EventKind, Rule
from portaladmin.notify.services import delivery_send
from portaladmin.portals.apikeys import apikey_revoke
from portaladmin.portals.models import Connection, Health, Role
from portaladmin.portals.services import connection_health_check_due, connection_test
from portaladmin.sandbox.models import SandboxObject
from portaladmin.sandbox.services import set_faults

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
EVENTS = [EventKind.CONNECTION_UNREACHABLE, EventKind.CONNECTION_KEY_REFUSED, EventKind.CONNECTION_RECOVERED]


@pytest.fixture
def portal(sandbox_connection, make_user, settings):
    settings.PORTALS_HEALTH_CHECK_MINUTES = 60
    conn = sandbox_connection("nhealth", slug="demo", name="Demo", api_key="sandbox-health-key-0123456789",
                              datasets=2, users=1, groups=0, harvesters=0, pages=0)
    admin = make_user("alice", role=Role.ADMIN, connection=conn)
    Rule.objects.create(owner=admin, name="health", events=[str(e) for e in EVENTS])
    connection_test(connection=conn)
    conn.refresh_from_db()
    assert conn.health == Health.OK
    return conn, admin


def send_all(rung):
    for delivery_id in list(rung):
        delivery_send(delivery_id=delivery_id)
    rung.clear()


def test_a_key_revoked_on_the_portal_is_told_once_by_the_periodic_check(portal, rung):
    conn, _ = portal
    for obj in SandboxObject.objects.filter(kind="apikey", data__label="portaladmin (sandbox seed)"):
        obj.data = {**obj.data, "is_revoked": True}
        obj.save(update_fields=["data"])
    start = timezone.now()
    for hour in range(1, 4):  # three periodic checks: one event
        assert connection_health_check_due(now=start + timedelta(minutes=61 * hour)) == 1
    assert Connection.objects.get(pk=conn.pk).health in (Health.AUTH_FAILED, Health.KEY_REVOKED)
    [event] = Event.objects.all()
    assert event.kind == EventKind.CONNECTION_KEY_REFUSED
    send_all(rung)
    [message] = mail.outbox
    assert message.subject in ("[portaladmin] Demo is refusing its key", "[portaladmin] Demo has a revoked API key")


def test_an_unreachable_portal_then_its_recovery(portal, rung):
    conn, _ = portal
    set_faults("nhealth", error_rate=1.0)
    start = timezone.now()
    try:
        connection_health_check_due(now=start + timedelta(minutes=61))
        connection_health_check_due(now=start + timedelta(minutes=122))
    finally:
        set_faults("nhealth", error_rate=0.0)
    connection_health_check_due(now=start + timedelta(minutes=183))
    assert list(Event.objects.order_by("id").values_list("kind", flat=True)) == [
        EventKind.CONNECTION_UNREACHABLE, EventKind.CONNECTION_RECOVERED]


def test_revoking_the_connections_own_key_in_portaladmin_is_told(portal, rung):
    conn, admin = portal
    conn.refresh_from_db()
    apikey_revoke(connection=conn, uid=conn.key_uid, reason="leaked", actor=admin)
    assert Connection.objects.get(pk=conn.pk).health == Health.KEY_REVOKED
    [event] = Event.objects.all()
    assert event.kind == EventKind.CONNECTION_KEY_REFUSED and event.subject == "Demo has a revoked API key"
    assert "revoked" in event.text
