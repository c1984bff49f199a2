"""Schedule edits, alternative exports, feedback (one dataset and across a connection), images, one
attachment's record."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portaladmin.core.bodylimit import accepts_upload
from portaladmin.core.htmx import redirect, render_page
from portaladmin.datasets import forms as f
from portaladmin.datasets import remote
from portaladmin.datasets.forms_parts import ExportEditForm, ExportForm, ImageForm, image_max_bytes
from portaladmin.datasets.selectors import snapshot_get
from portaladmin.datasets.services import extras
from portaladmin.datasets.views.common import GONE, gone_to_list, list_url, portal_failure, tab_url
from portaladmin.portals.client.errors import PortalError
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.permissions import ADMIN, OPERATE, VIEW


def _url(name: str, connection, **kw) -> str:
    return reverse(f"datasets:{name}", kwargs={"conn": connection.slug, **kw})


def _ctx(connection, uid: str, back: str, **extra) -> dict:
    return {"connection": connection, "uid": uid, "snapshot": snapshot_get(connection=connection, uid=uid),
            "back_url": back, **extra}


def _write(request, connection, uid: str, call, *, success: str, then: str, form=None, aliases=None):
    """Run one write; None on a refusal reported on `form` (the caller re-renders it), else the redirect."""
    try:
        call()
    except PortalError as exc:
        outcome = portal_failure(request, connection, exc, uid=uid, form=form, aliases=aliases)
        if outcome == GONE:
            return redirect(request, list_url(connection))
        if outcome == "form":
            return None
        return redirect(request, then)
    messages.success(request, success)
    return redirect(request, then)


# ---------------------------------------------------------------------------------------------- schedules

@connection_view(OPERATE)
@require_http_methods(["GET", "POST"])
def schedule_change(request, connection, uid: str, schedule_uid: str):
    back = tab_url(connection, uid, "schedules")
    try:
        schedule = extras.schedule_read(connection=connection, uid=uid, schedule_uid=schedule_uid)
    except PortalError as exc:
        return gone_to_list(request, connection, uid, exc) or redirect(request, back)
    zone = schedule.timezone or "UTC"
    form = f.ScheduleForm(request.POST or None, initial={"cron": schedule.cron_schedule})
    if request.method == "POST" and form.is_valid():
        cron = form.cleaned_data["cron"]
        done = _write(request, connection, uid, lambda: extras.schedule_update(
            connection=connection, actor=request.user, uid=uid, schedule_uid=schedule_uid, cron=cron,
            request=request), success=f"Schedule changed to {cron}.", then=back, form=form,
            aliases={"cron_schedule": "cron"})
        if done is not None:
            return done
    cron = form.cleaned_data.get("cron") if form.is_bound and form.is_valid() else schedule.cron_schedule
    ctx = _ctx(connection, uid, back, schedule=schedule, form=form, zone=zone,
               runs=remote.next_runs_in(cron, zone))
    return render_page(request, "datasets/parts/schedule_form.html", ctx)


# ---------------------------------------------------------------------------------------------- exports

@connection_view(VIEW)
@require_GET
def exports(request, connection, uid: str):
    return _exports_page(request, connection, uid)


def _exports_page(request, connection, uid: str, form=None, status: int = 200):
    ctx = _ctx(connection, uid, tab_url(connection, uid), form=form or ExportForm(),
               max_upload=settings.PORTALADMIN_MAX_UPLOAD_BYTES)
    try:
        ctx["exports"] = extras.exports_read(connection=connection, uid=uid)
    except PortalError as exc:
        if portal_failure(request, connection, exc, uid=uid, dataset_level=True) == GONE:
            return redirect(request, list_url(connection))
        ctx["load_error"] = True
    return render_page(request, "datasets/parts/exports.html", ctx, status=status)


@accepts_upload(max_bytes=lambda: settings.PORTALADMIN_MAX_UPLOAD_BYTES)
@connection_view(OPERATE)
@require_POST
def export_add(request, connection, uid: str):
    form = ExportForm(request.POST, request.FILES)
    if form.is_valid():
        d = form.cleaned_data
        upload = d["file"]
        upload.seek(0)
        done = _write(request, connection, uid, lambda: extras.export_create(
            connection=connection, actor=request.user, uid=uid, file=upload.file, filename=upload.name,
            content_type=upload.content_type or "application/octet-stream", title=d["title"],
            description=d["description"], request=request),
            success=f"{upload.name} added as an alternative export.", then=_url("exports", connection, uid=uid),
            form=form)
        if done is not None:
            return done
    return _exports_page(request, connection, uid, form=form)


@connection_view(OPERATE)
@require_http_methods(["GET", "POST"])
def export_change(request, connection, uid: str, export_uid: str):
    back = _url("exports", connection, uid=uid)
    try:
        export = extras.export_read(connection=connection, uid=uid, export_uid=export_uid)
    except PortalError as exc:
        return gone_to_list(request, connection, uid, exc) or redirect(request, back)
    form = ExportEditForm(request.POST or None, initial={"title": export.title, "description": export.description})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        done = _write(request, connection, uid, lambda: extras.export_update(
            connection=connection, actor=request.user, uid=uid, export_uid=export_uid, title=d["title"],
            description=d["description"], type=export.type or "uploaded_file", request=request),
            success="Alternative export saved.", then=back, form=form)
        if done is not None:
            return done
    return render_page(request, "datasets/parts/export_form.html", _ctx(connection, uid, back, export=export,
                                                                          form=form))


@connection_view(ADMIN)  # deleting a dataset's parts destroys work: admins only
@require_POST
def export_delete(request, connection, uid: str, export_uid: str):
    back = _url("exports", connection, uid=uid)
    return _write(request, connection, uid, lambda: extras.export_delete(
        connection=connection, actor=request.user, uid=uid, export_uid=export_uid, request=request),
        success="Alternative export deleted.", then=back)


@connection_view(VIEW)
@require_GET
def export_download(request, connection, uid: str, export_uid: str):
    """Streamed through portaladmin chunk by chunk (the key stays here); a URL export links to its URL."""
    back = _url("exports", connection, uid=uid)
    try:
        export = extras.export_read(connection=connection, uid=uid, export_uid=export_uid)
        if export.type == "url" and export.raw.get("url"):
            return redirect(request, export.raw["url"])
        chunks = extras.export_download(connection=connection, uid=uid, export_uid=export_uid)
    except PortalError as exc:
        return gone_to_list(request, connection, uid, exc) or redirect(request, back)
    name = str(export.raw.get("filename") or export.title or export_uid)
    response = StreamingHttpResponse(chunks, content_type=export.mimetype or "application/octet-stream")
    # Always a download (never rendered on our origin, whatever type the portal says), the name encoded safely.
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------------------------------------- feedback

@connection_view(VIEW)
@require_GET
def feedback(request, connection, uid: str):
    archived = request.GET.get("archived") == "1"
    ctx = _ctx(connection, uid, tab_url(connection, uid), archived=archived)
    try:
        ctx["items"] = extras.feedback_read(connection=connection, uid=uid, archived=archived)
    except PortalError as exc:
        if portal_failure(request, connection, exc, uid=uid, dataset_level=True) == GONE:
            return redirect(request, list_url(connection))
        ctx["load_error"] = True
    return render_page(request, "datasets/parts/feedback.html", ctx)


@connection_view(VIEW)
@require_GET
def feedback_detail(request, connection, uid: str, feedback_uid: str):
    back = _url("feedback", connection, uid=uid)
    try:
        item = extras.feedback_one(connection=connection, uid=uid, feedback_uid=feedback_uid)
    except PortalError as exc:
        return gone_to_list(request, connection, uid, exc) or redirect(request, back)
    return render_page(request, "datasets/parts/feedback_one.html", _ctx(connection, uid, back, item=item))


@connection_view(OPERATE)
@require_POST
def feedback_archive(request, connection, uid: str, feedback_uid: str):
    back = (reverse("datasets:feedback_all", kwargs={"conn": connection.slug}) if request.POST.get("next") == "all"
            else _url("feedback", connection, uid=uid))  # back where the person pressed Archive
    return _write(request, connection, uid, lambda: extras.feedback_archive(
        connection=connection, actor=request.user, uid=uid, feedback_uid=feedback_uid, request=request),
        success="Feedback archived.", then=back)


@connection_view(VIEW)
@require_GET
def feedback_all(request, connection):
    rows = extras.feedback_across(connection=connection)
    return render_page(request, "datasets/parts/feedback_all.html",
                       {"connection": connection, "rows": rows, "total": sum(r.open_count for r in rows),
                        "counted": extras.feedback_counted(connection=connection),
                        "groups": extras.feedback_items_across(connection=connection, rows=rows),
                        "shown_max": extras.ACROSS_MAX_DATASETS})


@connection_view(OPERATE)  # one request per dataset: spends the portal's requests like "Check statuses now"
@require_POST
def feedback_count(request, connection):
    extras.feedback_count_request(connection=connection)
    messages.success(request, "Counting open feedback on every dataset in the background; reload in a while.")
    return redirect(request, reverse("datasets:feedback_all", kwargs={"conn": connection.slug}))


# ---------------------------------------------------------------------------------------------- images

@connection_view(VIEW)
@require_GET
def images(request, connection):
    return _images_page(request, connection)


def _images_page(request, connection, form=None, status: int = 200):
    ctx = {"connection": connection, "form": form or ImageForm(), "max_image": image_max_bytes()}
    try:
        ctx["images"] = extras.images_read(connection=connection)
    except PortalError as exc:
        portal_failure(request, connection, exc)
        ctx["load_error"] = True
    return render_page(request, "datasets/parts/images.html", ctx, status=status)


# Twice the image limit reaches the form, so an image somewhat too large gets its message on the field; only
# far larger bodies are refused (413) before being read.
@accepts_upload(max_bytes=lambda: 2 * image_max_bytes())
@connection_view(OPERATE)
@require_POST
def image_upload(request, connection):
    form = ImageForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        upload.seek(0)
        try:
            data = extras.image_upload(connection=connection, actor=request.user, file=upload.file,
                                       filename=upload.name, content_type=upload.checked_type, request=request)
        except PortalError as exc:
            portal_failure(request, connection, exc, form=form)
        else:
            messages.success(request, f"{upload.name} uploaded: {data.url}")
            return redirect(request, reverse("datasets:images", kwargs={"conn": connection.slug}))
    return _images_page(request, connection, form=form)


# ---------------------------------------------------------------------------------------------- attachments

@connection_view(VIEW)
@require_GET
def attachment_detail(request, connection, uid: str, attachment_uid: str):
    back = tab_url(connection, uid, "attachments")
    try:
        item = extras.attachment_read(connection=connection, uid=uid, attachment_uid=attachment_uid)
    except PortalError as exc:
        return gone_to_list(request, connection, uid, exc) or redirect(request, back)
    return render_page(request, "datasets/parts/attachment.html", _ctx(connection, uid, back, item=item))

