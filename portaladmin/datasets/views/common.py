"""Shared pieces of the dataset views: tabs, rendering a tab, turning portal errors into messages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.urls import reverse

from portaladmin.core.htmx import is_partial, redirect, render_page
from portaladmin.core.live import changed, live_key
from portaladmin.core.portalerrors import form_add_portal_errors, portal_error_message, request_wrote
from portaladmin.datasets import forms as f
from portaladmin.datasets import remote
from portaladmin.datasets.metadata_form import template_editors
from portaladmin.datasets.selectors import snapshot_get
from portaladmin.datasets.services import dataset_gone, snapshot_note_schedules, snapshot_refresh
from portaladmin.portals.client.errors import (
    PortalError,
    PortalNotFound,
    PortalValidationError,
)

TABS = [("overview", "Overview"), ("metadata", "Metadata"), ("resources", "Resources"),
        ("processing", "Processors & fields"), ("schedules", "Schedules"), ("versions", "Versions"),
        ("attachments", "Attachments"), ("security", "Security")]
TAB_NAMES = {name for name, _ in TABS}
READERS = {"overview": remote.overview_read, "metadata": remote.metadata_read, "resources": remote.resources_read,
           "processing": remote.processing_read, "schedules": remote.schedules_read,
           "versions": remote.versions_read, "attachments": remote.attachments_read,
           "security": remote.security_read}
GONE = "gone"
PUBLISH_OFFER = "metadata_publish_offer"  # session key: offer "Publish metadata" once, after a save


def list_url(connection) -> str:
    return reverse("datasets:list", kwargs={"conn": connection.slug})


def tab_url(connection, uid: str, tab: str = "overview") -> str:
    if tab == "overview":
        return reverse("datasets:detail", kwargs={"conn": connection.slug, "uid": uid})
    return reverse("datasets:tab", kwargs={"conn": connection.slug, "uid": uid, "tab": tab})


def portal_failure(request, connection, exc: PortalError, *, uid: str | None = None, form=None,
                   dataset_level: bool = False, aliases: dict[str, str] | None = None) -> str:
    """Report a PortalError as a message (or as form errors). Returns GONE when the dataset itself is gone."""
    if isinstance(exc, PortalNotFound) and uid:
        if dataset_level or dataset_gone(connection=connection, uid=uid):
            from portaladmin.datasets.services import snapshot_forget

            snapshot_forget(connection=connection, uid=uid)
            messages.error(request, "This dataset no longer exists on the portal (deleted meanwhile); "
                                    "it was removed from the catalogue.")
            return GONE
        messages.error(request, "That item no longer exists on the portal (deleted meanwhile?). Nothing was changed.")
        return "error"
    if isinstance(exc, PortalValidationError) and form is not None:
        form_add_portal_errors(form, exc, aliases=aliases)
        return "form"
    messages.error(request, portal_error_message(exc, wrote=request_wrote(request)))
    return "error"


def gone_to_list(request, connection, uid: str, exc: PortalError, *, form=None,
                 aliases: dict[str, str] | None = None) -> HttpResponse | None:
    """Report a portal failure on one of a dataset's parts (portal_failure): the list when the dataset itself is
    gone, else None (the message or the form's errors are set; the caller decides where to go)."""
    if portal_failure(request, connection, exc, uid=uid, form=form, aliases=aliases) == GONE:
        return redirect(request, list_url(connection))
    return None


def default_forms(tab: str, snapshot) -> dict:
    if tab == "processing":
        return {"processor_form": f.ProcessorForm(), "field_form": f.FieldConfigForm()}
    if tab == "schedules":
        return {"schedule_form": f.ScheduleForm()}
    if tab == "attachments":
        return {"attachment_form": f.AttachmentForm()}
    if tab == "security":
        return {"ruleset_form": f.RulesetForm()}
    if tab == "overview" and snapshot is not None:
        return {"delete_form": f.DeleteDatasetForm(dataset_id=snapshot.dataset_id)}
    return {}


def portal_url(connection, snapshot) -> str:
    return f"{connection.base_url.rstrip('/')}/explore/dataset/{snapshot.dataset_id}/" if snapshot else ""


def render_tab(request, connection, uid: str, tab: str, *, extra: dict | None = None,
               status: int = 200) -> HttpResponse:
    """The dataset page with `tab` open (full page), or only the tab panel (HTMX). Reads the portal for the tab."""
    snapshot = snapshot_get(connection=connection, uid=uid)
    data: dict = {}
    try:
        if snapshot is None and tab != "overview":
            snapshot = snapshot_refresh(connection=connection, uid=uid)
            if snapshot is None:
                raise PortalNotFound("Not found.", status=404)
        data = READERS[tab](connection=connection, uid=uid)
    except PortalError as exc:
        if portal_failure(request, connection, exc, uid=uid, dataset_level=True) == GONE:
            return redirect(request, list_url(connection))
        data = {"tab_error": True}
    if tab == "overview" and "dataset" in data:
        snapshot = snapshot_get(connection=connection, uid=uid)
    if tab == "metadata" and "templates" in data:
        data["editors"] = template_editors(values=data["templates"], definitions=data["definitions"],
                                           bound=(extra or {}).get("bound_template"), suggest=True)
        data["publish_offer"] = request.session.pop(PUBLISH_OFFER, None) == uid and bool(
            snapshot and snapshot.is_published)
    if tab == "schedules" and "schedules" in data:  # the schedules set the expected update frequency (freshness)
        snapshot_note_schedules(connection=connection, uid=uid,
                                crons=[item["schedule"].cron_schedule for item in data["schedules"]])
    if tab == "security" and "security_initial" in data:
        data["security_form"] = f.SecurityForm(initial=data["security_initial"])
        data["permission_choices"] = f.PERMISSIONS
    ctx = {"connection": connection, "uid": uid, "snapshot": snapshot, "tab": tab, "tabs": TABS,
           "portal_url": portal_url(connection, snapshot),
           "max_upload": settings.PORTALADMIN_MAX_UPLOAD_BYTES,
           **default_forms(tab, snapshot), **data, **(extra or {})}
    return render_page(request, "datasets/detail.html", ctx, partial="tab-panel", status=status)


def after_write(request, connection, uid: str, tab: str, message: str = "") -> HttpResponse:
    """Success: the refreshed tab for HTMX, a redirect to it otherwise (post/redirect/get)."""
    if message:
        messages.success(request, message)
    try:  # the catalogue row follows portaladmin's own writes (updated_at, title …)
        snapshot_refresh(connection=connection, uid=uid, with_status=False)
    except PortalError:
        pass  # the write succeeded; the next sync catches up
    if is_partial(request):  # the heading and any list showing this dataset follow (portaladmin.core.live)
        return changed(render_tab(request, connection, uid, tab), [live_key("dataset", connection.slug, uid)])
    return redirect(request, tab_url(connection, uid, tab))


def write_failed(request, connection, uid: str, tab: str, exc: PortalError, *, form=None,
                 form_name: str = "", dataset_level: bool = False) -> HttpResponse:
    outcome = portal_failure(request, connection, exc, uid=uid, form=form, dataset_level=dataset_level)
    if outcome == GONE:
        return redirect(request, list_url(connection))
    extra = {form_name: form} if form is not None and form_name else None
    return render_tab(request, connection, uid, tab, extra=extra)
