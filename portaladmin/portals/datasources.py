"""A portal's saved datasource connections (where resources fetch files: http, ftp, S3 …).

Their secret parts (passwords, header values) are write-only here as on the portal: sent in create/update
bodies, registered with core.logging.register_secret before sending (so an echo in an error, a log line or an
audit row is redacted), never stored, never rendered (the client drops them from answers). An edit that leaves
the password empty sends no `auth`, so the portal keeps the stored credentials.
"""

from __future__ import annotations

from portaladmin.audit.services import audit_record
from portaladmin.core.logging import register_secret
from portaladmin.portals.models import Connection

TYPES = [("http", "HTTP(S)"), ("ftp", "FTP(S)")]


def datasource_body(data: dict, *, creating: bool) -> dict:
    """The spec's Connection body from the form's cleaned data."""
    body: dict = {"type": data["type"], "url": data["url"], "is_reusable": bool(data.get("is_reusable"))}
    password = data.get("password") or ""
    username = data.get("username") or ""
    if password:
        register_secret(password)
        body["auth"] = {"type": "basic_auth", "username": username, "password": password}
    elif creating and not username:
        body["auth"] = None
    if data["type"] == "http" and data.get("header_name") and data.get("header_value"):
        register_secret(data["header_value"])
        body["headers"] = [{"name": data["header_name"], "value": data["header_value"]}]
    return body


def _public(body: dict) -> dict:
    """What of a body may go into an audit row: no secret."""
    auth = body.get("auth") or {}
    return {"type": body.get("type"), "url": body.get("url"), "is_reusable": body.get("is_reusable"),
            "auth": auth.get("type") if auth else None, "username": auth.get("username") if auth else None,
            "header": (body.get("headers") or [{}])[0].get("name")}


def _audited(action: str, *, connection, target: str, actor, request, extra: dict, call):
    """Run one remote write and audit it, success or failure (the error is redacted by audit_record)."""
    from portaladmin.portals.client.errors import PortalError

    try:
        result = call()
    except PortalError as exc:
        audit_record(action=action, actor=actor, connection=connection, target=target, request=request,
                     outcome="failure", error=exc.message, extra=extra)
        raise
    audit_record(action=action, actor=actor, connection=connection, target=target or getattr(result, "uid", ""),
                 request=request, extra=extra)
    return result


def datasource_list(*, connection: Connection):
    from portaladmin.portals.client import client_for

    return list(client_for(connection).datasource_connection_iter())


def datasource_get(*, connection: Connection, uid: str):
    from portaladmin.portals.client import client_for

    return client_for(connection).datasource_connection_get(uid)


def datasource_create(*, connection: Connection, data: dict, actor, request=None):
    from portaladmin.portals.client import client_for

    body = datasource_body(data, creating=True)
    return _audited("datasource.created", connection=connection, target="", actor=actor, request=request,
                    extra=_public(body), call=lambda: client_for(connection).datasource_connection_create(body))


def datasource_update(*, connection: Connection, uid: str, data: dict, actor, request=None):
    from portaladmin.portals.client import client_for

    body = datasource_body(data, creating=False)
    return _audited("datasource.edited", connection=connection, target=uid, actor=actor, request=request,
                    extra={**_public(body), "secret_replaced": "auth" in body or "headers" in body},
                    call=lambda: client_for(connection).datasource_connection_update(uid, body))


def datasource_delete(*, connection: Connection, uid: str, actor, request=None) -> None:
    from portaladmin.portals.client import client_for

    _audited("datasource.deleted", connection=connection, target=uid, actor=actor, request=request, extra={},
             call=lambda: client_for(connection).datasource_connection_delete(uid))


# --- who may use a datasource connection (its security rulesets) ---------------------------------------------
MANAGE = "manage_connection"  # share, edit and remove it; a rule without it lets the user or group use it


def datasource_access(*, connection: Connection, uid: str) -> tuple[list, list]:
    """(user rulesets, group rulesets) of one datasource connection, every page."""
    from portaladmin.portals.client import client_for, every_item

    client = client_for(connection)
    return (every_item(client.datasource_connection_user_ruleset_list, uid),
            every_item(client.datasource_connection_group_ruleset_list, uid))


def datasource_access_set(*, connection: Connection, uid: str, kind: str, target: str, manage: bool, actor,
                          request=None):
    """Give a user (kind "user") or a group ("group") access to the datasource connection, or change whether
    they may manage it: update the rule when there is one, create it otherwise."""
    from portaladmin.portals.client import client_for
    from portaladmin.portals.client.errors import PortalNotFound

    client = client_for(connection)
    permissions = [MANAGE] if manage else []
    prefix = f"datasource_connection_{kind}_ruleset"
    key = "username" if kind == "user" else "group_uid"

    def call():
        try:
            getattr(client, f"{prefix}_get")(uid, target)
        except PortalNotFound:
            return getattr(client, f"{prefix}_create")(uid, **{key: target}, permissions=permissions)
        return getattr(client, f"{prefix}_update")(uid, target, permissions=permissions)

    return _audited("datasource.access_set", connection=connection, target=uid, actor=actor, request=request,
                    extra={kind: target, "manage": manage}, call=call)


def datasource_access_remove(*, connection: Connection, uid: str, kind: str, target: str, actor,
                             request=None) -> None:
    from portaladmin.portals.client import client_for

    client = client_for(connection)
    _audited("datasource.access_removed", connection=connection, target=uid, actor=actor, request=request,
             extra={kind: target},
             call=lambda: getattr(client, f"datasource_connection_{kind}_ruleset_delete")(uid, target))
