"""Write side of harvesters: create, update, unsaved preview, delete, schedule, and jobs for long actions.

Every remote write goes through audit_remote_write. Start / abort / publish / unpublish are jobs: the
jobs engine sends them from a worker and its poller watches the harvester until it is idle again.
"""

from __future__ import annotations

from django.db import transaction

from portaladmin.audit.services import audit_remote_write
from portaladmin.harvesters import selectors
from portaladmin.harvesters.receivers import request_catalogue_sync
from portaladmin.jobs.models import Job
from portaladmin.jobs.services import job_create
from portaladmin.portals.client import client_for
from portaladmin.portals.client.schemas import Harvester, HarvesterPreview, Schedule
from portaladmin.portals.models import Connection

# Read-only properties of the harvester object (openapi.json): never sent back in a PUT or a preview.
READ_ONLY = frozenset({"uid", "status", "remote_datasets_count", "harvested_datasets_count", "published_datasets_count",
                       "attached_datasets_count", "has_error", "resource_errors_count", "created_at", "updated_at",
                       "updated_by", "last_started_at", "last_success_at"})


class HarvesterActionRefused(Exception):
    """A local precondition failed before anything was sent: the message is for people."""


def writable_body(raw: dict) -> dict:
    """The saved configuration minus read-only fields. Secrets the portal hides come back as null: drop them
    too, so a PUT does not overwrite a stored key with null."""
    return {k: v for k, v in (raw or {}).items() if k not in READ_ONLY and v is not None}


def merged_body(current: Harvester | None, changes: dict) -> dict:
    body = writable_body(current.raw) if current is not None else {}
    body.update(changes)
    return body


def harvester_create(*, connection: Connection, actor, body: dict, request=None) -> Harvester:
    with audit_remote_write(action="harvester.create", actor=actor, connection=connection, target=body.get("name", ""),
                            request=request, extra={"type": body.get("type", "")}):
        return client_for(connection).harvester_create(body)


def harvester_update(*, connection: Connection, actor, current: Harvester, changes: dict, request=None) -> Harvester:
    body = merged_body(current, changes)
    body["type"] = current.type or body.get("type")  # the type of an existing harvester does not change
    with audit_remote_write(action="harvester.update", actor=actor, connection=connection, target=current.uid,
                            request=request):
        return client_for(connection).harvester_update(current.uid, body)


def preview_base_uid(*, connection: Connection, harvester_type: str) -> str | None:
    """For a harvester not saved yet: a saved harvester of the same type to run unsaved_preview against.

    unsaved_preview merges the given configuration into a saved harvester's; the form sends every field it
    manages, so the preview reflects the new configuration.
    """
    for harvester in client_for(connection).harvester_iter():
        if harvester.type == harvester_type:
            return harvester.uid
    return None


def harvester_unsaved_preview(*, connection: Connection, actor, uid: str, body: dict, request=None) -> HarvesterPreview:
    """POST …/unsaved_preview/: nothing is saved on the portal, but it is a POST, so it is audited."""
    with audit_remote_write(action="harvester.preview", actor=actor, connection=connection, target=uid,
                            request=request):
        return client_for(connection).harvester_unsaved_preview(uid, body)


def harvester_delete(*, connection: Connection, actor, uid: str, delete_attached_datasets: bool, request=None) -> None:
    with audit_remote_write(action="harvester.delete", actor=actor, connection=connection, target=uid,
                            request=request, extra={"delete_attached_datasets": delete_attached_datasets}):
        client_for(connection).harvester_delete(uid, delete_attached_datasets=delete_attached_datasets)
    selectors.forget_attached(connection=connection, uid=uid)
    if delete_attached_datasets:
        request_catalogue_sync(connection=connection, actor=actor)


def harvester_schedule_save(*, connection: Connection, actor, uid: str, cron_schedule: str, timezone: str,
                            request=None) -> Schedule:
    """Create the harvester's one schedule, or update it if it exists."""
    client = client_for(connection)
    existing = selectors.harvester_schedule(connection=connection, uid=uid)
    if existing is None:
        with audit_remote_write(action="harvester.schedule_create", actor=actor, connection=connection, target=uid,
                                request=request, extra={"cron": cron_schedule, "timezone": timezone}):
            return client.harvester_schedule_create(uid, cron_schedule=cron_schedule, timezone=timezone)
    with audit_remote_write(action="harvester.schedule_update", actor=actor, connection=connection, target=uid,
                            request=request, extra={"cron": cron_schedule, "timezone": timezone,
                                                    "schedule": existing.uid}):
        return client.harvester_schedule_update(uid, existing.uid, cron_schedule=cron_schedule, timezone=timezone)


def harvester_schedule_delete(*, connection: Connection, actor, uid: str, request=None) -> bool:
    """Delete the harvester's schedule; False when it had none."""
    existing = selectors.harvester_schedule(connection=connection, uid=uid)
    if existing is None:
        return False
    with audit_remote_write(action="harvester.schedule_delete", actor=actor, connection=connection, target=uid,
                            request=request, extra={"schedule": existing.uid}):
        client_for(connection).harvester_schedule_delete(uid, existing.uid)
    return True


# --- jobs -----------------------------------------------------------------------------------------
# publish / unpublish: one order, then the poller watches the published count (see jobs_kinds.py)
ACTION_KINDS = {"start": "harvester.start", "abort": "harvester.abort", "publish": "harvesters.publish_all",
                "unpublish": "harvesters.unpublish_all"}
ACTION_TITLES = {"start": "Harvest with", "abort": "Abort", "publish": "Publish the datasets of",
                 "unpublish": "Unpublish the datasets of"}


def harvester_action(*, connection: Connection, actor, uid: str, action: str, request=None) -> Job:
    """Start a job for start / abort / publish / unpublish after checking the harvester's state.

    Refuses (HarvesterActionRefused, nothing created) when another harvester job is active, when starting a busy
    harvester or aborting an idle one; the portal would answer 400 invalid_harvester_status.
    """
    if action not in ACTION_KINDS:
        raise ValueError(action)
    active = selectors.harvester_active_job(connection=connection, uid=uid)
    if active is not None:
        raise HarvesterActionRefused(f"A job is already running for this harvester (job {active.pk}: {active.title}): "
                                     f"wait for it to end, or cancel it.")
    harvester = selectors.harvester_get(connection=connection, uid=uid)
    name = harvester.name or uid
    if action == "start" and not harvester.is_idle:
        raise HarvesterActionRefused(f"“{name}” is already running ({harvester.status}): it cannot be started "
                                     f"again until it is idle. Abort it or wait for the run to end.")
    if action == "abort" and harvester.is_idle:
        raise HarvesterActionRefused(f"“{name}” is not running ({harvester.status}): there is nothing to abort.")
    if action in ("publish", "unpublish") and not harvester.attached_datasets_count:
        raise HarvesterActionRefused(f"“{name}” has no attached datasets to {action}.")
    targets = {connection: [{"target": uid, "label": name, "payload": {"attached": harvester.attached_datasets_count}}]}
    with transaction.atomic():
        job = job_create(kind=ACTION_KINDS[action], actor=actor, targets=targets, request=request,
                         title=f"{ACTION_TITLES[action]} “{name}”")
    selectors.forget_attached(connection=connection, uid=uid)
    return job
