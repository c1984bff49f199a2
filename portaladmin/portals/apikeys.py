"""A portal's API keys: the connection's own key (what it may do, whether it is revoked) and every other key.

The connection's key is looked up with /apikeys/search_key/ (its secret travels in the request body, never in
a URL); what the portal says is stored on the Connection (key_* fields) so pages can warn before an action.
A key is never deleted on the portal (the API cannot): it is revoked. A new key for the connection is created
and stored encrypted in one step; its secret is shown only in the answer to that request, if asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portaladmin.audit.services import audit_record
from portaladmin.portals.models import Connection, Health


@dataclass
class KeyListing:
    keys: list  # list[ApiKey]
    error: str = ""  # why the list could not be read (shown instead of the table)


def _when(text: str | None):
    return parse_datetime(text) if text else None


def key_info_record(*, connection: Connection, found) -> None:
    """Store what the portal says about the connection's own key (found: ApiKey or None)."""
    now = timezone.now()
    if found is None:
        fields = {"key_info_message": "The portal does not list this key among its API keys.",
                  "key_checked_at": now}
    else:
        fields = {"key_uid": found.uid[:64], "key_label": found.label[:200], "key_owner": (found.username or "")[:150],
                  "key_created_at": _when(found.created_at), "key_permissions": list(found.permissions),
                  "key_revoked": found.is_revoked, "key_revoked_at": _when(found.revoked_at),
                  "key_info_message": "", "key_checked_at": now}
    Connection.objects.filter(pk=connection.pk).update(**fields)
    for name, value in fields.items():
        setattr(connection, name, value)


def key_info_refresh(*, connection: Connection) -> str:
    """Read the connection's own key on its portal and store it. Returns "" or what could not be read."""
    from portaladmin.portals.client import client_for
    from portaladmin.portals.client.errors import PortalAuthError, PortalError

    try:
        found = client_for(connection).apikey_search(connection.api_key)
    except PortalAuthError as exc:
        if exc.status == 401:
            raise
        message = ("This key may not read the portal's API keys, so its own permissions, owner and age cannot "
                   "be shown (reading keys needs the edit_domain permission).")
        _info_message(connection, message)
        return message
    except PortalError as exc:
        message = f"The key's details could not be read: {exc.message}"
        _info_message(connection, message)
        return message
    key_info_record(connection=connection, found=found)
    return ""


def _info_message(connection: Connection, message: str) -> None:
    fields = {"key_info_message": message[:500], "key_checked_at": timezone.now()}
    Connection.objects.filter(pk=connection.pk).update(**fields)
    for name, value in fields.items():
        setattr(connection, name, value)


def revoked_health_message(connection: Connection) -> str:
    when = f" on {connection.key_revoked_at:%Y-%m-%d %H:%M}" if connection.key_revoked_at else ""
    return f"The connection's API key was revoked{when}: create or enter a new key."


def apikey_listing(*, connection: Connection, search: str = "") -> KeyListing:
    """Every key of the portal (the API has no search: it is applied here, on label, owner, uid, permission)."""
    from portaladmin.portals.client import client_for
    from portaladmin.portals.client.errors import PortalAuthError, PortalError

    try:
        keys = list(client_for(connection).apikey_iter())
    except PortalAuthError:
        return KeyListing([], "The connection's key may not list the portal's API keys (it needs edit_domain).")
    except PortalError as exc:
        return KeyListing([], f"The portal's API keys could not be read: {exc.message}")
    words = search.lower().split()
    if words:
        keys = [k for k in keys if all(w in " ".join([k.uid, k.label, k.username or "", *k.permissions]).lower()
                                       for w in words)]
    keys.sort(key=lambda k: (k.is_revoked, k.created_at or ""), reverse=False)
    return KeyListing(keys)


def apikey_get(*, connection: Connection, uid: str):
    from portaladmin.portals.client import client_for

    return client_for(connection).apikey_get(uid)


def apikey_update(*, connection: Connection, uid: str, label: str, permissions: list[str], actor, request=None):
    from portaladmin.portals.client import client_for

    key = client_for(connection).apikey_update(uid, label=label, permissions=permissions)
    audit_record(action="apikey.edited", actor=actor, connection=connection, target=uid, request=request,
                 extra={"label": label, "permissions": permissions})
    if uid == connection.key_uid:
        key_info_record(connection=connection, found=key)
    return key


def apikey_revoke(*, connection: Connection, uid: str, reason: str, actor, request=None):
    """Revoke a key (final). Revoking the connection's own key turns its health red at once."""
    from portaladmin.portals.client import client_for

    key = client_for(connection).apikey_revoke(uid, reason=reason or None)
    audit_record(action="apikey.revoked", actor=actor, connection=connection, target=uid, request=request,
                 extra={"reason": reason, "own_key": uid == connection.key_uid})
    if uid == connection.key_uid:
        key_info_record(connection=connection, found=key)
        connection.key_revoked = True  # whatever the answer says: the order was accepted
        if connection.key_revoked_at is None:
            connection.key_revoked_at = timezone.now()
        connection.save(update_fields=["key_revoked", "key_revoked_at"])
        # Through the one health recorder, so that the change is told (notify: "key refused or revoked").
        from portaladmin.portals.services import connection_record_health

        connection_record_health(connection=connection, health=Health.KEY_REVOKED,
                                 message=revoked_health_message(connection))
    return key


def apikey_create_for_connection(*, connection: Connection, label: str, permissions: list[str],
                                 revoke_previous: bool, actor, request=None) -> tuple[str, str]:
    """Create a key on the portal and store it as the connection's key, encrypted. Returns (the new secret, a
    warning or ""): the caller shows the secret once if asked, and drops it. If the portal refuses the new key,
    nothing changes here; if only revoking the previous key fails, the new key is kept and the warning says so."""
    from portaladmin.core.logging import register_secret
    from portaladmin.portals.client import client_for
    from portaladmin.portals.client.errors import PortalError

    client = client_for(connection)
    created = client.apikey_create(label=label, permissions=permissions)
    if not created.key:
        raise ValueError("The portal created the key but did not return its secret: revoke it on the portal.")
    register_secret(created.key)
    previous_uid = connection.key_uid
    with transaction.atomic():
        connection.set_api_key(created.key)
        connection.key_stored_at, connection.key_stored_by = timezone.now(), actor
        connection.health = Health.UNKNOWN
        connection.save()
        key_info_record(connection=connection, found=created)
        audit_record(action="apikey.created", actor=actor, connection=connection, target=created.uid,
                     request=request, extra={"label": label, "permissions": permissions, "for_connection": True})
        audit_record(action="connection.key_replaced", actor=actor, connection=connection, target=connection.slug,
                     request=request, extra={"key_fingerprint": connection.api_key_fingerprint,
                                             "key_uid": created.uid})
    if revoke_previous and previous_uid and previous_uid != created.uid:
        # Signed with the previous key (it could create keys, so it may revoke them; the new key may not).
        try:
            client.apikey_revoke(previous_uid, reason=f"Replaced by {created.uid} in portaladmin")
        except PortalError as exc:
            audit_record(action="apikey.revoked", actor=actor, connection=connection, target=previous_uid,
                         request=request, outcome="failure", error=exc.message, extra={"reason": "replaced"})
            return created.key, f"The new key is stored, but the previous key {previous_uid} could not be " \
                                f"revoked: {exc.message}"
        audit_record(action="apikey.revoked", actor=actor, connection=connection, target=previous_uid,
                     request=request, extra={"reason": "replaced", "own_key": False})
    return created.key, ""
