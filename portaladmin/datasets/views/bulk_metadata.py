"""Bulk metadata edit: form → per-dataset preview → one job → undo. The datasets come from the connection's list
(checked rows, or every row matching its filters) or from the cross-portal board (portaladmin.fleet.views); the
selection waits in the session (too long for a URL) under a key naming where it came from."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from portaladmin.core.htmx import redirect, render_page
from portaladmin.datasets import remote
from portaladmin.datasets.bulk_metadata import (
    KIND,
    BulkInputError,
    bulk_field_choices,
    metadata_bulk_plan,
    metadata_bulk_preview_across,
    metadata_bulk_start,
    metadata_bulk_undo,
)
from portaladmin.datasets.forms import BulkMetadataForm
from portaladmin.datasets.selectors import snapshot_list
from portaladmin.datasets.views.common import list_url, portal_failure
from portaladmin.jobs.models import Job
from portaladmin.jobs.services import job_can_operate
from portaladmin.portals.client.errors import PortalError
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.permissions import OPERATE

PREVIEW_LIMIT = 200
SELECTION_MAX = 5000  # one job; the benchmark in bench/ measures 1,000


def selection_key(connection) -> str:
    return f"bulk-metadata:{connection.pk}"


def _targets(request, connection) -> list[dict]:
    uids = request.session.get(selection_key(connection)) or []
    rows = snapshot_list(connection=connection).filter(uid__in=uids).values_list("uid", "dataset_id")
    return [{"target": uid, "label": dataset_id} for uid, dataset_id in rows]


def bulk_metadata_page(request, *, targets: dict, action_url: str, back_url: str, session_key: str):
    """The form, its preview and the start of the job over {connection: [target]} (operator on each: the
    callers checked). Templates are read from each connection involved."""
    templates = {}
    for connection in targets:
        try:
            templates[connection] = remote.metadata_templates_read(connection=connection)
        except PortalError as exc:
            portal_failure(request, connection, exc)
            return redirect(request, back_url)
    choices, per_key = bulk_field_choices(templates)
    form = BulkMetadataForm(request.POST or None, field_choices=choices)
    count = sum(len(v) for v in targets.values())
    ctx = {"form": form, "count": count, "action_url": action_url, "back_url": back_url, "preview": None,
           "several": len(targets) > 1, "connection": next(iter(targets)) if len(targets) == 1 else None}
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        plan = metadata_bulk_plan(connections=list(targets), found=per_key[d["field"]], op=d["op"], value=d["value"],
                                  find=d["find"])
        if not plan.payloads:
            form.add_error("value", next(iter({**plan.refused, **plan.missing}.values())))
            return render_page(request, "datasets/bulk_metadata.html", ctx)
        if "apply" in request.POST:
            try:
                job = metadata_bulk_start(actor=request.user, targets=targets, plan=plan, publish=d["publish"],
                                          request=request)
            except BulkInputError as exc:
                form.add_error(None, str(exc))
                return render_page(request, "datasets/bulk_metadata.html", ctx)
            request.session.pop(session_key, None)
            messages.success(request, f"{job.title}: started.")
            return redirect(request, job.get_absolute_url())
        rows = metadata_bulk_preview_across(targets=targets, plan=plan, limit=PREVIEW_LIMIT)
        counts = {s: sum(r.status == s for _, r in rows) for s in ("change", "same", "error", "missing")}
        read = counts["change"] + counts["same"] + sum(r.status == "error" and c in plan.payloads for c, r in rows)
        applicable = sum(len(v) for c, v in targets.items() if c in plan.payloads)
        ctx.update(preview=rows, counts=counts, unread=max(0, applicable - read), applicable=applicable)
    return render_page(request, "datasets/bulk_metadata.html", ctx)


@connection_view(OPERATE)
@require_http_methods(["GET", "POST"])
def bulk_metadata(request, connection):
    targets = _targets(request, connection)
    if not targets:
        messages.error(request, "Select datasets in the list first (then “Edit metadata”).")
        return redirect(request, list_url(connection))
    return bulk_metadata_page(request, targets={connection: targets}, back_url=list_url(connection),
                              action_url=reverse("datasets:bulk_metadata", kwargs={"conn": connection.slug}),
                              session_key=selection_key(connection))


def undo_response(request, job):
    if not job_can_operate(request.user, job):
        raise PermissionDenied("You need the operator role on every connection of this job.")
    try:
        undo = metadata_bulk_undo(job=job, actor=request.user, request=request)
    except BulkInputError as exc:
        messages.error(request, str(exc))
        return redirect(request, job.get_absolute_url())
    messages.success(request, f"{undo.title}: started.")
    return redirect(request, undo.get_absolute_url())


@connection_view(OPERATE)
@require_POST
def bulk_metadata_undo(request, connection, job_id: int):
    return undo_response(request, get_object_or_404(Job, pk=job_id, kind=KIND, connection=connection))
