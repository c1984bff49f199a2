"""Bulk metadata edit of the datasets selected in the list: form → per-dataset preview → one job → undo."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods, require_POST

from portaladmin.core.htmx import redirect, render_page
from portaladmin.datasets import remote
from portaladmin.datasets.bulk_metadata import (
    KIND,
    BulkInputError,
    bulk_payload,
    metadata_bulk_preview,
    metadata_bulk_start,
    metadata_bulk_undo,
)
from portaladmin.datasets.forms import BulkMetadataForm
from portaladmin.datasets.metadata_form import KINDS
from portaladmin.datasets.selectors import snapshot_list
from portaladmin.datasets.views.common import list_url, portal_failure
from portaladmin.jobs.models import Job
from portaladmin.jobs.services import job_can_operate
from portaladmin.portals.client.errors import PortalError
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.permissions import OPERATE

PREVIEW_LIMIT = 200


def selection_key(connection) -> str:
    return f"bulk-metadata:{connection.pk}"


def _targets(request, connection) -> list[dict]:
    uids = request.session.get(selection_key(connection)) or []
    rows = snapshot_list(connection=connection).filter(uid__in=uids).values_list("uid", "dataset_id")
    return [{"target": uid, "label": dataset_id} for uid, dataset_id in rows]


@connection_view(OPERATE)
@require_http_methods(["GET", "POST"])
def bulk_metadata(request, connection):
    targets = _targets(request, connection)
    if not targets:
        messages.error(request, "Select datasets in the list first (then “Edit metadata”).")
        return redirect(request, list_url(connection))
    try:
        templates = remote.metadata_templates_read(connection=connection)
    except PortalError as exc:
        portal_failure(request, connection, exc)
        return redirect(request, list_url(connection))
    definitions = {f"{t.name}:{f.name}": (t.name, f) for t in templates if t.is_active is not False
                   for f in t.fields if not f.is_hidden and f.type in KINDS}
    choices = [(key, f"{t} · {f.label or f.name} ({f.type})") for key, (t, f) in definitions.items()]
    form = BulkMetadataForm(request.POST or None, field_choices=choices)
    ctx = {"connection": connection, "form": form, "targets": targets, "preview": None}
    if request.method == "POST" and form.is_valid():
        template, definition = definitions[form.cleaned_data["field"]]
        try:
            payload = bulk_payload(template=template, definition=definition, op=form.cleaned_data["op"],
                                   value=form.cleaned_data["value"], find=form.cleaned_data["find"])
        except BulkInputError as exc:
            form.add_error("value", str(exc))
            return render_page(request, "datasets/bulk_metadata.html", ctx)
        if "apply" in request.POST:
            job = metadata_bulk_start(connection=connection, actor=request.user, targets=targets, payload=payload,
                                      request=request)
            request.session.pop(selection_key(connection), None)
            messages.success(request, f"{job.title}: started.")
            return redirect(request, job.get_absolute_url())
        rows = metadata_bulk_preview(connection=connection, targets=targets, payload=payload, limit=PREVIEW_LIMIT)
        ctx.update(preview=rows, counts={s: sum(r.status == s for r in rows) for s in ("change", "same", "error")},
                   unread=max(0, len(targets) - PREVIEW_LIMIT))
    return render_page(request, "datasets/bulk_metadata.html", ctx)


@connection_view(OPERATE)
@require_POST
def bulk_metadata_undo(request, connection, job_id: int):
    job = get_object_or_404(Job, pk=job_id, kind=KIND, connection=connection)
    if not job_can_operate(request.user, job):
        raise PermissionDenied("You need the operator role on this connection.")
    try:
        undo = metadata_bulk_undo(job=job, actor=request.user, request=request)
    except BulkInputError as exc:
        messages.error(request, str(exc))
        return redirect(request, job.get_absolute_url())
    messages.success(request, f"{undo.title}: started.")
    return redirect(request, undo.get_absolute_url())
