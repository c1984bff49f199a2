"""Remote writes on the parts of a dataset: resources, processors, field configurations, schedules, versions,
attachments. Inputs arrive validated (forms); each write is audited."""

from __future__ import annotations

from typing import BinaryIO

from portaladmin.audit.services import audit_remote_write
from portaladmin.datasets.services.catalogue import snapshot_store
from portaladmin.portals.client import client_for
from portaladmin.portals.models import Connection


def _audit(action: str, *, connection: Connection, actor, uid: str, request=None, extra: dict | None = None):
    return audit_remote_write(action=action, actor=actor, connection=connection, target=uid, request=request,
                              extra=extra)


# ---------------------------------------------------------------------------------------------- resources

def resource_delete(*, connection: Connection, actor, uid: str, resource_uid: str, request=None) -> None:
    with _audit("dataset.resource.delete", connection=connection, actor=actor, uid=uid, request=request,
                extra={"resource": resource_uid}):
        client_for(connection).resource_delete(uid, resource_uid)


# ---------------------------------------------------------------------------------- processors and fields

def processor_create(*, connection: Connection, actor, uid: str, type: str, label: str = "", args: dict,
                     request=None):
    body = {"type": type, "label": label or type, "args": args}
    with _audit("dataset.processor.create", connection=connection, actor=actor, uid=uid, request=request,
                extra={"type": type}):
        return client_for(connection).processor_create(uid, body)


def processor_update(*, connection: Connection, actor, uid: str, processor_uid: str, type: str, label: str,
                     args: dict, request=None):
    body = {"type": type, "label": label or type, "args": args}
    with _audit("dataset.processor.update", connection=connection, actor=actor, uid=uid, request=request,
                extra={"processor": processor_uid}):
        return client_for(connection).processor_update(uid, processor_uid, body)


def processor_delete(*, connection: Connection, actor, uid: str, processor_uid: str, request=None) -> None:
    with _audit("dataset.processor.delete", connection=connection, actor=actor, uid=uid, request=request,
                extra={"processor": processor_uid}):
        client_for(connection).processor_delete(uid, processor_uid)


def field_config_create(*, connection: Connection, actor, uid: str, body: dict, request=None):
    with _audit("dataset.field.create", connection=connection, actor=actor, uid=uid, request=request,
                extra={"type": body.get("type")}):
        return client_for(connection).field_config_create(uid, body)


def field_config_update(*, connection: Connection, actor, uid: str, field_uid: str, body: dict, request=None):
    with _audit("dataset.field.update", connection=connection, actor=actor, uid=uid, request=request,
                extra={"field": field_uid}):
        return client_for(connection).field_config_update(uid, field_uid, body)


def field_config_delete(*, connection: Connection, actor, uid: str, field_uid: str, request=None) -> None:
    with _audit("dataset.field.delete", connection=connection, actor=actor, uid=uid, request=request,
                extra={"field": field_uid}):
        client_for(connection).field_config_delete(uid, field_uid)


# ---------------------------------------------------------------------------------- schedules and versions

def schedule_create(*, connection: Connection, actor, uid: str, cron: str, request=None):
    with _audit("dataset.schedule.create", connection=connection, actor=actor, uid=uid, request=request,
                extra={"cron": cron}):
        return client_for(connection).dataset_schedule_create(uid, cron_schedule=cron)


def schedule_delete(*, connection: Connection, actor, uid: str, schedule_uid: str, request=None) -> None:
    with _audit("dataset.schedule.delete", connection=connection, actor=actor, uid=uid, request=request,
                extra={"schedule": schedule_uid}):
        client_for(connection).dataset_schedule_delete(uid, schedule_uid)


def version_restore(*, connection: Connection, actor, uid: str, version_uid: str, request=None):
    with _audit("dataset.version.restore", connection=connection, actor=actor, uid=uid, request=request,
                extra={"version": version_uid}):
        dataset = client_for(connection).version_restore(uid, version_uid)
    snapshot_store(connection=connection, dataset=dataset)
    return dataset


# ---------------------------------------------------------------------------------------------- attachments

def attachment_upload(*, connection: Connection, actor, uid: str, file: BinaryIO, filename: str,
                      content_type: str = "application/octet-stream", request=None):
    with _audit("dataset.attachment.upload", connection=connection, actor=actor, uid=uid, request=request,
                extra={"filename": filename}):
        return client_for(connection).attachment_upload(uid, file, filename=filename, content_type=content_type)


def attachment_delete(*, connection: Connection, actor, uid: str, attachment_uid: str, request=None) -> None:
    with _audit("dataset.attachment.delete", connection=connection, actor=actor, uid=uid, request=request,
                extra={"attachment": attachment_uid}):
        client_for(connection).attachment_delete(uid, attachment_uid)
