"""Writes on connection profiles and memberships. Every change is audited."""

import time

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from portaladmin.audit.services import audit_record
from portaladmin.portals.models import Connection, Health, Membership, Role
from portaladmin.portals.permissions import ADD_CONNECTION, forget_cached_roles


@transaction.atomic
def connection_create(*, form, actor, request=None) -> Connection:
    connection = form.save(commit=False)
    connection.created_by = actor
    connection.key_stored_at, connection.key_stored_by = timezone.now(), actor
    connection.save()
    # Whoever creates a connection administers it.
    if not actor.is_superuser:
        Membership.objects.create(user=actor, connection=connection, role=Role.ADMIN)
        forget_cached_roles(actor)
    audit_record(action="connection.created", actor=actor, connection=connection, target=connection.slug,
                 request=request, extra={"base_url": connection.base_url, "key_fingerprint": connection.api_key_fingerprint})
    return connection


@transaction.atomic
def connection_update(*, form, actor, request=None) -> Connection:
    changed = [name for name in form.changed_data if name != "api_key"]
    connection = form.save()
    if changed:
        extra: dict = {"fields": changed}
        if form.base_url_changed:
            extra["base_url"] = {"from": form.previous_base_url, "to": connection.base_url}
        audit_record(action="connection.edited", actor=actor, connection=connection, target=connection.slug,
                     request=request, extra=extra)
    if form.key_replaced:
        connection.health = Health.UNKNOWN
        connection.key_stored_at, connection.key_stored_by = timezone.now(), actor
        connection.save(update_fields=["health", "key_stored_at", "key_stored_by"])
        audit_record(action="connection.key_replaced", actor=actor, connection=connection, target=connection.slug,
                     request=request, extra={"key_fingerprint": connection.api_key_fingerprint})
    return connection


@transaction.atomic
def connection_delete(*, connection: Connection, actor, request=None) -> None:
    audit_record(action="connection.deleted", actor=actor, connection=connection, target=connection.slug,
                 request=request)
    connection.delete()


def connection_test(*, connection: Connection, actor=None, request=None, audit: bool = True) -> Connection:
    """Call the portal (count datasets), store reachability, key validity, count and latency; then read what the
    key itself may do (permissions, owner, age, revocation: portals.apikeys). A revoked key is red."""
    from portaladmin.portals.apikeys import key_info_refresh, revoked_health_message
    from portaladmin.portals.client import client_for
    from portaladmin.portals.client.errors import PortalAuthError, PortalError, PortalUnavailable

    started = time.monotonic()
    now = timezone.now()
    latency = None  # of the dataset count alone: the key lookup is a second call
    try:
        count = client_for(connection).dataset_count()
        latency = int((time.monotonic() - started) * 1000)
        key_info_refresh(connection=connection)
    except PortalAuthError as exc:
        health, message, count = Health.AUTH_FAILED, f"The portal refused the key ({exc.status}).", None
        if connection.key_revoked:  # we revoked it (or saw it revoked): say so rather than "refused"
            health, message = Health.KEY_REVOKED, revoked_health_message(connection)
    except PortalUnavailable as exc:
        health, message, count = Health.UNREACHABLE, f"The portal cannot be reached: {exc.message}", None
    except PortalError as exc:
        health, message, count = Health.ERROR, f"The portal answered with an error: {exc.message}", None
    else:
        health, message = Health.OK, ""
        if connection.key_revoked:
            health, message = Health.KEY_REVOKED, revoked_health_message(connection)
    if latency is None:
        latency = int((time.monotonic() - started) * 1000)
    connection_record_health(connection=connection, health=health, message=message, latency_ms=latency,
                             dataset_count=count, at=now)
    if audit:  # a person's test; the periodic check is not an action of anyone
        audit_record(action="connection.tested", actor=actor, connection=connection, target=connection.slug,
                     request=request, outcome="success" if health == Health.OK else "failure", error=message,
                     extra={"latency_ms": latency})
    return connection


def connection_health_check_due(*, now=None) -> int:
    """The periodic check (beat, every PORTALS_HEALTH_CHECK_MINUTES): every connection not tested for that long
    is tested like the Test button does — reachability, the key accepted, and what the key itself may do
    (a key revoked on the portal turns the connection red without anyone pressing a button)."""
    from datetime import timedelta

    from django.conf import settings
    from django.db.models import Q

    now = now or timezone.now()
    minutes = float(getattr(settings, "PORTALS_HEALTH_CHECK_MINUTES", 60) or 60)
    stale = now - timedelta(minutes=minutes)
    checked = 0
    for connection in Connection.objects.filter(Q(health_checked_at__isnull=True) | Q(health_checked_at__lt=stale)):
        connection_test(connection=connection, audit=False)
        checked += 1
    return checked


def connection_record_call_failure(*, connection: Connection, exc: Exception) -> None:
    """Background calls (catalogue sync, pollers) keep the health figure true too, not only the Test button."""
    from portaladmin.portals.client.errors import PortalAuthError, PortalError, PortalUnavailable

    if isinstance(exc, PortalAuthError):
        connection_record_health(connection=connection, health=Health.AUTH_FAILED,
                                 message=f"The portal refused the key ({exc.status}).")
    elif isinstance(exc, PortalUnavailable):
        connection_record_health(connection=connection, health=Health.UNREACHABLE,
                                 message=f"The portal cannot be reached: {exc.message}")
    elif isinstance(exc, PortalError):
        connection_record_health(connection=connection, health=Health.ERROR,
                                 message=f"The portal answered with an error: {exc.message}")


def connection_record_health(*, connection: Connection, health: str, message: str = "", latency_ms: int | None = None,
                             dataset_count: int | None = None, at=None) -> None:
    at = at or timezone.now()
    fields = {"health": health, "health_message": message[:500], "health_checked_at": at}
    if latency_ms is not None:
        fields["last_latency_ms"] = latency_ms
    if health == Health.OK:
        fields["last_ok_at"] = at
        if dataset_count is not None:
            fields["last_dataset_count"] = dataset_count
    # A conditional UPDATE tells a change of health apart from a repeat: of two workers recording the same
    # change at once, one sees it, so a portal down for an hour is one change (and one notification).
    before = Connection.objects.filter(pk=connection.pk).values_list("health", flat=True).first()
    changed = before is not None and before != health and Connection.objects.filter(
        pk=connection.pk, health=before).update(**fields)
    if not changed:
        Connection.objects.filter(pk=connection.pk).update(**fields)
    for name, value in fields.items():
        setattr(connection, name, value)
    if changed:
        from portaladmin.portals.signals import on_connection_health_changed

        transaction.on_commit(lambda: on_connection_health_changed(
            connection, before=before, after=health, message=fields["health_message"], at=at))


@transaction.atomic
def membership_add(*, connection: Connection, user, role: str, actor, request=None) -> Membership:
    membership = Membership.objects.create(connection=connection, user=user, role=role)
    audit_record(action="membership.added", actor=actor, connection=connection, target=user.username,
                 request=request, extra={"role": role})
    return membership


@transaction.atomic
def membership_change(*, membership: Membership, role: str, actor, request=None) -> Membership:
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(action="membership.changed", actor=actor, connection=membership.connection,
                 target=membership.user.username, request=request, extra={"from": old, "to": role})
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor, request=None) -> None:
    audit_record(action="membership.removed", actor=actor, connection=membership.connection,
                 target=membership.user.username, request=request, extra={"role": membership.role})
    membership.delete()


def last_admin_guard(membership: Membership, new_role: str | None) -> str | None:
    """A connection keeps at least one admin (superusers aside), so somebody can still manage it."""
    if membership.role != Role.ADMIN or new_role == Role.ADMIN:
        return None
    others = Membership.objects.filter(connection=membership.connection, role=Role.ADMIN).exclude(pk=membership.pk)
    if not others.exists():
        return "This is the connection's last admin: give someone else the admin role first."
    return None


def add_connection_permission() -> Permission:
    app_label, codename = ADD_CONNECTION.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@transaction.atomic
def connection_adder_set(*, user, allowed: bool, actor, request=None) -> None:
    """Give or take the Team page's "can add connections" permission (superusers always can)."""
    permission = add_connection_permission()
    if allowed:
        user.user_permissions.add(permission)
    else:
        user.user_permissions.remove(permission)
    for cache in ("_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(cache, None)
    audit_record(action="team.can_add_connections_" + ("granted" if allowed else "revoked"), actor=actor,
                 target=user.username, request=request)
