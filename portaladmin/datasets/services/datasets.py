"""Remote writes on one dataset: create, delete, copy, metadata, security, actions (as jobs).

Every remote write goes through audit_remote_write. Local snapshot rows follow the portal's answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from portaladmin.audit.services import audit_remote_write
from portaladmin.datasets.services.catalogue import snapshot_forget, snapshot_refresh, snapshot_store
from portaladmin.portals.client import client_for
from portaladmin.portals.client.errors import PortalError, PortalNotFound, PortalValidationError
from portaladmin.portals.models import Connection

DATASET_ACTIONS = ("publish", "unpublish", "publish_metadata", "abort", "delete")


def _audit(action: str, *, connection: Connection, actor, target: str, request=None, extra: dict | None = None):
    return audit_remote_write(action=action, actor=actor, connection=connection, target=target, request=request,
                              extra=extra)


def dataset_gone(*, connection: Connection, uid: str) -> bool:
    """After a 404 on a part of a dataset: is the dataset itself gone? (Removes its row if so.)"""
    try:
        client_for(connection).dataset_get(uid)
    except PortalNotFound:
        snapshot_forget(connection=connection, uid=uid)
        return True
    return False


def dataset_read(*, connection: Connection, uid: str):
    """(Dataset, DatasetStatus) from the portal; the snapshot row follows. PortalNotFound removes the row."""
    client = client_for(connection)
    try:
        dataset = client.dataset_get(uid)
        status = client.dataset_status(uid)
    except PortalNotFound:
        snapshot_forget(connection=connection, uid=uid)
        raise
    snapshot_store(connection=connection, dataset=dataset, status=status)
    return dataset, status


def dataset_create(*, connection: Connection, actor, dataset_id: str, title: str, language: str,
                   modified=None, description: str = "", keywords: list[str] | None = None,
                   is_restricted: bool = False, request=None):
    """Create a dataset with the required default metadata (title, modified, language)."""
    modified = modified or timezone.now()
    default: dict[str, Any] = {"title": {"value": title}, "language": {"value": language},
                               "modified": {"value": modified.isoformat().replace("+00:00", "Z")}}
    if description:
        default["description"] = {"value": description}
    if keywords:
        default["keyword"] = {"value": keywords}
    with _audit("dataset.create", connection=connection, actor=actor, target=dataset_id, request=request):
        dataset = client_for(connection).dataset_create(dataset_id=dataset_id, metadata={"default": default},
                                                        is_restricted=is_restricted)
    snapshot_store(connection=connection, dataset=dataset)
    return dataset


def dataset_delete(*, connection: Connection, actor, uid: str, label: str = "", request=None) -> None:
    try:
        with _audit("dataset.delete", connection=connection, actor=actor, target=label or uid, request=request):
            client_for(connection).dataset_delete(uid)
    except PortalNotFound:
        snapshot_forget(connection=connection, uid=uid)
        raise
    snapshot_forget(connection=connection, uid=uid)


def dataset_copy(*, connection: Connection, actor, uid: str, label: str = "", request=None):
    with _audit("dataset.copy", connection=connection, actor=actor, target=label or uid, request=request):
        copy = client_for(connection).dataset_copy(uid)
    snapshot_store(connection=connection, dataset=copy)
    return copy


def dataset_action_start(*, connection: Connection, actor, action: str, targets: list[dict], request=None):
    """publish / unpublish / publish_metadata / abort / delete (admin) on one or many datasets: one job (the jobs engine audits
    each remote write in the worker and keeps the snapshot status fresh through the item_remote_state signal)."""
    from portaladmin.jobs.services import dataset_action_start as jobs_dataset_action_start

    if action not in DATASET_ACTIONS:
        raise ValueError(f"Unknown dataset action {action!r}")
    return jobs_dataset_action_start(actor=actor, action=action, targets={connection: targets}, request=request)


# ---------------------------------------------------------------------------------------------- metadata

@dataclass
class MetadataSaveResult:
    saved: dict[str, Any] = field(default_factory=dict)  # field → value the portal now holds
    cleared: list[str] = field(default_factory=list)
    refused: dict[str, PortalValidationError] = field(default_factory=dict)  # field → the portal's refusal
    stopped: PortalError | None = None  # a failure that ended the saving (portal down, key refused, gone …)


def metadata_fields_save(*, connection: Connection, actor, uid: str, template: str, changes: dict[str, Any],
                         clears: list[str], request=None) -> MetadataSaveResult:
    """Send only what changed: one PUT per changed field, one DELETE per cleared field (never the whole
    template, which would rewrite values the person did not touch). A field the portal refuses is reported and
    the others go on; any other failure stops there (what was sent before it is in the result)."""
    client = client_for(connection)
    result = MetadataSaveResult()
    steps = [(name, value, False) for name, value in changes.items()] + [(name, None, True) for name in clears]
    for name, value, clear in steps:
        try:
            with _audit("dataset.metadata.clear" if clear else "dataset.metadata.update", connection=connection,
                        actor=actor, target=uid, request=request, extra={"template": template, "fields": [name]}):
                if clear:
                    client.metadata_delete(uid, template, name)
                else:
                    client.metadata_update(uid, template, name, value=value)
        except PortalValidationError as exc:
            result.refused[name] = exc
            continue
        except PortalError as exc:
            result.stopped = exc
            break
        if clear:
            result.cleared.append(name)
        else:
            result.saved[name] = value
    if result.saved or result.cleared:
        try:
            snapshot_refresh(connection=connection, uid=uid, with_status=False)
        except PortalError:
            pass  # the writes succeeded; the next sync catches up
    return result


# ---------------------------------------------------------------------------------------------- security

def dataset_security_update(*, connection: Connection, actor, uid: str, is_restricted: bool,
                            default_security: dict, request=None):
    """PUT the full dataset with new is_restricted / default_security (the other fields as the portal has them)."""
    client = client_for(connection)
    current = client.dataset_get(uid)
    body = {"dataset_id": current.dataset_id, "is_restricted": is_restricted, "metadata": current.metadata,
            "default_security": {**(current.default_security or {}), **default_security}}
    with _audit("dataset.security.update", connection=connection, actor=actor, target=uid, request=request,
                extra={"is_restricted": is_restricted}):
        dataset = client.dataset_update(uid, body)
    snapshot_store(connection=connection, dataset=dataset)
    return dataset


def ruleset_save(*, connection: Connection, actor, uid: str, kind: str, principal: str, permissions: list[str],
                 create: bool, request=None):
    """Create or update the user (kind="user", principal=username) or group (principal=group uid) ruleset."""
    client = client_for(connection)
    verb = "create" if create else "update"
    with _audit(f"dataset.ruleset.{verb}", connection=connection, actor=actor, target=uid, request=request,
                extra={"kind": kind, "principal": principal, "permissions": permissions}):
        if kind == "user":
            if create:
                return client.dataset_user_ruleset_create(uid, username=principal, permissions=permissions)
            return client.dataset_user_ruleset_update(uid, principal, permissions=permissions)
        if create:
            return client.dataset_group_ruleset_create(uid, group_uid=principal, permissions=permissions)
        return client.dataset_group_ruleset_update(uid, principal, permissions=permissions)


def ruleset_delete(*, connection: Connection, actor, uid: str, kind: str, principal: str, request=None) -> None:
    client = client_for(connection)
    with _audit("dataset.ruleset.delete", connection=connection, actor=actor, target=uid, request=request,
                extra={"kind": kind, "principal": principal}):
        if kind == "user":
            client.dataset_user_ruleset_delete(uid, principal)
        else:
            client.dataset_group_ruleset_delete(uid, principal)
