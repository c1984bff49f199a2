"""Writes of the fleet pages: the harvester snapshot, cross-portal bulk actions, watchdog actions, offboarding.

Remote writes never happen here: every action becomes ONE job of the job engine (which checks roles again in
the worker and audits every remote write). The harvester snapshot refresh only reads the portals.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from portaladmin.core.logging import redact
from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.fleet.kinds import OFFBOARD_KIND
from portaladmin.fleet.models import HarvesterRefresh, HarvesterSnapshot
from portaladmin.fleet.parallel import error_text
from portaladmin.jobs.models import Job
from portaladmin.jobs.registry import parse_since
from portaladmin.jobs.services import (
    dataset_action_start,
    harvester_action_start,
    job_cancel,
    job_create,
    job_retry_failed,
)
from portaladmin.portals.client import client_for
from portaladmin.portals.models import Connection, Role
from portaladmin.portals.permissions import connections_visible_to, has_role, require_role

logger = logging.getLogger(__name__)

MAX_ERRORS_FETCHED = 50  # harvesters with errors whose messages are read per refresh
MAX_RESOURCE_ERRORS = 200  # per harvester
BULK_LIMIT = 5000


# --- the harvester snapshot -----------------------------------------------------------------------
def harvester_snapshot_refresh(*, connection: Connection) -> HarvesterRefresh:
    """Copy the connection's harvesters (and the messages of those with errors) into HarvesterSnapshot."""
    now = timezone.now()
    ref, _ = HarvesterRefresh.objects.get_or_create(connection=connection)
    ref.attempted_at = now
    try:
        client = client_for(connection)
        harvesters = list(client.harvester_iter())
        errors: dict[str, tuple[str, dict]] = {}
        for h in [h for h in harvesters if h.has_error or h.resource_errors_count][:MAX_ERRORS_FETCHED]:
            try:
                found = client.harvester_errors(h.uid)
            except Exception as exc:  # noqa: BLE001 - keep the rest of the refresh
                errors[h.uid] = (f"Could not read the errors: {error_text(exc)}", {})
                continue
            resources = dict(list((found.resources or {}).items())[:MAX_RESOURCE_ERRORS])
            errors[h.uid] = (redact(found.harvester or "")[:1000], {k: redact(str(v))[:500] for k, v in resources.items()})
    except Exception as exc:  # noqa: BLE001 - recorded on the connection's refresh row, shown on the board
        ref.error = error_text(exc)
        ref.save()
        logger.warning("harvester refresh of %s failed: %s", connection.slug, ref.error)
        return ref

    with transaction.atomic():
        existing = {h.uid: h for h in HarvesterSnapshot.objects.filter(connection=connection)}
        keep = set()
        for h in harvesters:
            keep.add(h.uid)
            row = existing.get(h.uid) or HarvesterSnapshot(connection=connection, uid=h.uid)
            if row.pk is None or row.status != (h.status or ""):
                row.status_seen_at = now
            message, resources = errors.get(h.uid, ("", {}))
            row.name = (h.name or "")[:255]
            row.type = (h.type or "")[:50]
            row.status = (h.status or "")[:30]
            row.has_error = bool(h.has_error)
            row.resource_errors_count = int(h.resource_errors_count or 0)
            row.remote_datasets_count = int(h.remote_datasets_count or 0)
            row.harvested_datasets_count = int(h.harvested_datasets_count or 0)
            row.published_datasets_count = int(h.published_datasets_count or 0)
            row.last_started_at = parse_since(h.last_started_at)
            row.last_success_at = parse_since(h.last_success_at)
            row.error_message = message
            row.resource_errors = resources
            row.synced_at = now
            row.save()
        HarvesterSnapshot.objects.filter(connection=connection).exclude(uid__in=keep).delete()
        ref.ok_at = now
        ref.error = ""
        ref.count = len(harvesters)
        ref.save()
    return ref


def harvester_snapshot_request(*, user, connection_slug: str = "") -> list[Connection]:
    """Ask the worker to refresh the harvesters of the visible connections (a read: any member may ask)."""
    from portaladmin.fleet.tasks import harvester_refresh_task

    connections = list(connections_visible_to(user).filter(**({"slug": connection_slug} if connection_slug else {})))
    now = timezone.now()
    with transaction.atomic():
        for conn in connections:
            HarvesterRefresh.objects.update_or_create(connection=conn, defaults={"requested_at": now})
        ids = [c.pk for c in connections]
        transaction.on_commit(lambda: [harvester_refresh_task.delay(connection_id=i) for i in ids])
    return connections


# --- the cross-portal dataset board ------------------------------------------------------------------
@dataclass
class BulkOutcome:
    job: Job | None = None
    accepted: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # connection name → rows refused (role too low)
    missing: int = 0  # selected rows that are not (or no longer) in a visible snapshot


def parse_selection(values: list[str]) -> list[tuple[int, str]]:
    """'<connection id>:<dataset uid>' values of the board's checkboxes."""
    pairs = []
    for value in values:
        conn_id, _, uid = str(value).partition(":")
        if conn_id.isdigit() and uid:
            pairs.append((int(conn_id), uid[:64]))
    return pairs


def fleet_bulk_targets(*, actor, rows: list[tuple[int, str]] | None = None, queryset=None,
                       limit: int | None = None) -> tuple[dict[Connection, list[dict]], BulkOutcome]:
    """The board's selection (connection id, uid pairs) or a whole filtered queryset, as {connection: [target]}
    on the connections where the actor is operator; the others are counted as refused, per connection."""
    outcome = BulkOutcome()
    limit = limit or BULK_LIMIT
    visible = {c.pk: c for c in connections_visible_to(actor)}
    if queryset is not None:
        found = list(queryset.values_list("connection_id", "uid", "dataset_id")[:limit + 1])
        if len(found) > limit:
            raise ValueError(f"At most {limit:,} datasets per job: narrow the filters first.")
    else:
        wanted = defaultdict(set)
        for conn_id, uid in rows or []:
            wanted[conn_id].add(uid)
        if set(wanted) - set(visible):
            raise Http404("No such connection.")  # outsiders must not learn a connection exists
        found = []
        for conn_id, uids in wanted.items():
            found += DatasetSnapshot.objects.filter(connection_id=conn_id, uid__in=uids).values_list(
                    "connection_id", "uid", "dataset_id")
        outcome.missing = sum(len(u) for u in wanted.values()) - len(found)
    targets: dict[Connection, list[dict]] = defaultdict(list)
    for conn_id, uid, dataset_id in found:
        conn = visible.get(conn_id)
        if conn is None:
            outcome.missing += 1
        elif has_role(actor, conn, Role.OPERATOR):
            targets[conn].append({"target": uid, "label": dataset_id})
        else:
            outcome.refused[conn.name] = outcome.refused.get(conn.name, 0) + 1
    outcome.accepted = sum(len(v) for v in targets.values())
    return dict(targets), outcome


def fleet_dataset_bulk(*, actor, action: str, rows: list[tuple[int, str]] | None = None,
                       queryset=None, request=None) -> BulkOutcome:
    """Publish or unpublish datasets of several connections in ONE job.

    Rows are (connection id, uid) pairs, or a whole filtered queryset of the board. Rows on connections where
    the actor is below operator are refused (counted per connection); PermissionDenied when nothing is left.
    """
    if action not in ("publish", "unpublish"):
        raise ValueError("Unknown action.")
    targets, outcome = fleet_bulk_targets(actor=actor, rows=rows, queryset=queryset)
    if not targets:
        if outcome.refused:
            names = ", ".join(sorted(outcome.refused))
            raise PermissionDenied(f"Publishing needs the operator role; you are only a viewer on {names}.")
        return outcome
    outcome.job = dataset_action_start(actor=actor, action=action, targets=targets, request=request)
    return outcome


# --- the watchdog ---------------------------------------------------------------------------------------
def watchdog_dataset_abort(*, actor, connection: Connection, uid: str, request=None) -> Job:
    require_role(actor, connection, Role.OPERATOR)
    row = DatasetSnapshot.objects.filter(connection=connection, uid=uid).first()
    label = row.dataset_id if row else ""
    return dataset_action_start(actor=actor, action="abort", targets={connection: [{"target": uid, "label": label}]},
                                request=request)


def watchdog_harvester_abort(*, actor, connection: Connection, uid: str, request=None) -> Job:
    require_role(actor, connection, Role.OPERATOR)
    row = HarvesterSnapshot.objects.filter(connection=connection, uid=uid).first()
    label = row.name if row else ""
    return harvester_action_start(actor=actor, action="abort",
                                  targets={connection: [{"target": uid, "label": label}]}, request=request)


def _visible_job(actor, job_id: int) -> Job:
    job = Job.objects.filter(pk=job_id, connections__in=connections_visible_to(actor)).distinct().first()
    if job is None:
        raise Http404("No such job.")
    return job


def watchdog_job_retry(*, actor, job_id: int, request=None) -> Job:
    return job_retry_failed(job=_visible_job(actor, job_id), actor=actor, request=request)


def watchdog_job_cancel(*, actor, job_id: int, request=None) -> Job:
    return job_cancel(job=_visible_job(actor, job_id), actor=actor, request=request)


# --- people across portals ------------------------------------------------------------------------------
def person_offboard_start(*, actor, accounts: list[tuple[int, str]], label: str = "", request=None) -> Job:
    """Delete one person's accounts ((connection id, username) pairs) from several portals in ONE job.

    Needs the admin role on every selected connection (PermissionDenied otherwise, naming them).
    """
    visible = {c.pk: c for c in connections_visible_to(actor)}
    targets: dict[Connection, list[dict]] = {}
    too_low = []
    for conn_id, username in accounts:
        conn = visible.get(conn_id)
        if conn is None:
            raise Http404("No such connection.")
        if not has_role(actor, conn, Role.ADMIN):
            too_low.append(conn.name)
            continue
        targets.setdefault(conn, []).append({"target": username, "label": label or username})
    if too_low:
        raise PermissionDenied("Offboarding needs the admin role on every selected portal; you are not admin on "
                               + ", ".join(sorted(set(too_low))) + ".")
    if not targets:
        raise ValueError("Select at least one portal.")
    who = label or next(iter(targets.values()))[0]["target"]
    return job_create(kind=OFFBOARD_KIND, actor=actor, targets=targets, request=request,
                      params={"person": who}, title=f"Offboard {who} from {len(targets)} portal(s)")
