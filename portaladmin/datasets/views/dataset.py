"""The dataset page: tabs loaded on demand, and every write on a dataset and its parts."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from portaladmin.core.bodylimit import accepts_upload
from portaladmin.core.htmx import is_partial, redirect, render_page
from portaladmin.core.portalerrors import form_add_portal_errors
from portaladmin.datasets import forms as f
from portaladmin.datasets import remote, services
from portaladmin.datasets.metadata_form import MetadataEditForm, form_prefix
from portaladmin.datasets.selectors import snapshot_get
from portaladmin.datasets.views.common import (
    GONE,
    PUBLISH_OFFER,
    TAB_NAMES,
    after_write,
    list_url,
    portal_failure,
    portal_url,
    render_tab,
    tab_url,
    write_failed,
)
from portaladmin.portals.client.errors import PortalError, PortalNotFound, PortalValidationError
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.permissions import ADMIN, OPERATE, VIEW


def _run(request, connection, uid: str, tab: str, service: Callable[..., object], *, success: str, form=None,
         form_name: str = "", dataset_level: bool = False, **arguments):
    """Call one service on dataset `uid` as request.user, with `arguments`; report a PortalError (form errors,
    message, dataset gone) or show the fresh tab."""
    try:
        service(connection=connection, actor=request.user, uid=uid, request=request, **arguments)
    except PortalError as exc:
        return write_failed(request, connection, uid, tab, exc, form=form, form_name=form_name,
                            dataset_level=dataset_level)
    return after_write(request, connection, uid, tab, success)


def _invalid(request, connection, uid: str, tab: str, form, form_name: str):
    return render_tab(request, connection, uid, tab, extra={form_name: form})


def _label(connection, uid: str) -> str:
    row = snapshot_get(connection=connection, uid=uid)
    return row.dataset_id if row else uid


# ---------------------------------------------------------------------------------------------- pages

@connection_view(VIEW)
@require_GET
@vary_on_headers("HX-Request")
def dataset_detail(request, connection, uid: str, tab: str = "overview"):
    if tab not in TAB_NAMES:
        raise Http404("No such tab.")
    if request.GET.get("part") == "head":  # the page heading alone, from the snapshot (live updates, no remote call)
        snapshot = snapshot_get(connection=connection, uid=uid)
        if snapshot is None:
            raise Http404("No such dataset in the catalogue.")
        return render(request, "datasets/detail.html#head", {"connection": connection, "uid": uid,
                                                             "snapshot": snapshot, "portal_url": portal_url(connection, snapshot)})
    return render_tab(request, connection, uid, tab)


@connection_view(VIEW)
@require_GET
def cron_preview(request, connection, uid: str):
    """Next run times of a cron typed in the schedule form (local computation, no remote call)."""
    form = f.ScheduleForm(request.GET)
    runs = remote.next_runs(form.cleaned_data["cron"]) if form.is_valid() else []
    return render_page(request, "datasets/tabs/schedules.html",
                       {"connection": connection, "uid": uid, "schedule_form": form, "preview_runs": runs,
                        "preview_only": True},
                       partial="cron-preview")


# ---------------------------------------------------------------------------------------------- actions

@connection_view(OPERATE)
@require_POST
def dataset_action(request, connection, uid: str, action: str):
    """publish / unpublish / publish_metadata / abort: a job whose progress shows inline."""
    if action not in services.DATASET_ACTIONS:
        raise Http404("No such action.")
    job = services.dataset_action_start(connection=connection, actor=request.user, action=action,
                                        targets=[{"target": uid, "label": _label(connection, uid)}], request=request)
    messages.success(request, f"{job.title}: started.")
    if not is_partial(request):
        return redirect(request, job.get_absolute_url())
    return render_page(request, "datasets/tabs/overview.html", {"connection": connection, "uid": uid, "job": job},
                       partial="action-result")


@connection_view(OPERATE)
@require_POST
def dataset_copy(request, connection, uid: str):
    try:
        copy = services.dataset_copy(connection=connection, actor=request.user, uid=uid,
                                     label=_label(connection, uid), request=request)
    except PortalError as exc:
        return write_failed(request, connection, uid, "overview", exc, dataset_level=True)
    messages.success(request, f"Copied to {copy.dataset_id}.")
    return redirect(request, tab_url(connection, copy.uid))


@connection_view(ADMIN)
@require_POST
def dataset_delete(request, connection, uid: str):
    label = _label(connection, uid)
    form = f.DeleteDatasetForm(request.POST, dataset_id=label)
    if not form.is_valid():
        return _invalid(request, connection, uid, "overview", form, "delete_form")
    try:
        services.dataset_delete(connection=connection, actor=request.user, uid=uid, label=label, request=request)
    except PortalError as exc:
        if portal_failure(request, connection, exc, uid=uid, dataset_level=True) == "gone":
            return redirect(request, list_url(connection))
        return render_tab(request, connection, uid, "overview")
    messages.success(request, f"Dataset {label} deleted.")
    return redirect(request, list_url(connection))


# ---------------------------------------------------------------------------------------------- metadata

@connection_view(OPERATE)
@require_POST
def metadata_template_edit(request, connection, uid: str, template: str):
    """Save one template's typed editor: only the fields this person changed (PUT each), cleared ones (DELETE)."""
    try:
        definition = remote.metadata_template_read(connection=connection, name=template)
    except PortalNotFound:
        messages.error(request, f"The portal has no metadata template {template!r} (deleted meanwhile?). "
                                "Nothing was sent.")
        return render_tab(request, connection, uid, "metadata")
    except PortalError as exc:
        return write_failed(request, connection, uid, "metadata", exc)
    form = MetadataEditForm(request.POST, fields=definition.fields, prefix=form_prefix(template))
    if not form.is_valid():
        return render_tab(request, connection, uid, "metadata", extra={"bound_template": (template, form)})
    if not form.changes and not form.clears:
        messages.info(request, "Nothing changed: nothing was sent to the portal.")
        return render_tab(request, connection, uid, "metadata")
    result = services.metadata_fields_save(connection=connection, actor=request.user, uid=uid, template=template,
                                           changes=form.changes, clears=form.clears, request=request)
    return _metadata_saved(request, connection, uid, template, form, result, title=definition.title)


def _metadata_saved(request, connection, uid: str, template: str, form, result, *, title: str = ""):
    done = [*result.saved, *result.cleared]
    if done:
        # In the words of the form ("Standard metadata: saved Keywords."), not the API's names ("default", "keyword").
        def labels(names):
            return ", ".join(str(form.fields[n].label) if n in form.fields else n for n in names)
        messages.success(request, f"{title or template}: saved {labels(result.saved) or 'nothing'}"
                                  + (f"; cleared {labels(result.cleared)}" if result.cleared else "") + ".")
        row = snapshot_get(connection=connection, uid=uid)
        if row is not None and row.is_published:
            request.session[PUBLISH_OFFER] = uid  # the portal shows the change once metadata is published
    if not result.refused and result.stopped is None:
        if done:  # the catalogue row, the heading and the lists follow (after_write: portaladmin.core.live)
            return after_write(request, connection, uid, "metadata")
        if is_partial(request):
            return render_tab(request, connection, uid, "metadata")
        return redirect(request, tab_url(connection, uid, "metadata"))
    # What is left comes back as typed; the saved fields count as loaded, so saving again sends only the rest.
    form = form.with_saved(result.saved, result.cleared)
    for name, exc in result.refused.items():
        # Everything the portal said about this field lands on it (its `value` key is the field itself).
        on_field = PortalValidationError(exc.message, status=exc.status, detail={name: exc.detail or exc.message})
        form_add_portal_errors(form, on_field, aliases={"value": name})
    if result.refused:
        messages.error(request, f"The portal refused {len(result.refused)} field{'s' if len(result.refused) > 1 else ''}"
                                f" ({', '.join(result.refused)}): see below; what you typed is kept.")
    if result.stopped is not None:
        if portal_failure(request, connection, result.stopped, uid=uid) == GONE:
            return redirect(request, list_url(connection))
    return render_tab(request, connection, uid, "metadata", extra={"bound_template": (template, form)})


@connection_view(OPERATE)
@require_GET
def metadata_suggest(request, connection, uid: str, template: str, field: str):
    """Values already used for a field, as <option>s for the input's datalist (the input sends its own name)."""
    query = (list(request.GET.values()) or [""])[-1][:200]
    try:
        values = remote.metadata_suggestions_read(connection=connection, template=template, field=field,
                                                  query=query) if query.strip() else []
    except PortalError:
        values = []  # suggestions are a convenience: the input keeps working without them
    return render_page(request, "datasets/tabs/metadata.html", {"suggestions": values}, partial="suggestions")


@connection_view(OPERATE)
@require_POST
def html_preview(request, connection):
    """The live preview of an HTML metadata field: what was typed, through the allowlist sanitiser (core.sanitize).
    The textarea posts its value under its own name (no portal call; POST: the text may be long)."""
    # Inside its form, htmx posts every input of the form: the textarea is named by HX-Trigger-Name.
    name = request.headers.get("HX-Trigger-Name") or "text"
    text = request.POST.get(name, "")[:100_000]
    return render_page(request, "datasets/tabs/metadata.html", {"preview_html": text}, partial="html-preview")


# ---------------------------------------------------------------------------------- processors and fields
# Adding and editing processors: views/processing.py (forms generated from the portal's catalogue).

def _edit_invalid(request, connection, uid: str, tab: str, form):
    """An inline edit (a row's parameters) failed validation: say why in a message, change nothing."""
    messages.error(request, "Not saved: " + " ".join(f"{e}" for errs in form.errors.values() for e in errs))
    return render_tab(request, connection, uid, tab)


@connection_view(ADMIN)  # deleting a dataset's parts destroys work: admins only
@require_POST
def processor_delete(request, connection, uid: str, processor_uid: str):
    return _run(request, connection, uid, "processing", services.processor_delete, processor_uid=processor_uid,
                success="Processor deleted.")


@connection_view(OPERATE)
@require_POST
def field_config_save(request, connection, uid: str, field_uid: str | None = None):
    form = f.FieldConfigForm(request.POST)
    if not form.is_valid():
        if field_uid is not None:
            return _edit_invalid(request, connection, uid, "processing", form)
        return _invalid(request, connection, uid, "processing", form, "field_form")
    if field_uid is None:
        return _run(request, connection, uid, "processing", services.field_config_create, body=form.body(),
                    success="Field configuration saved.", form=form, form_name="field_form")
    return _run(request, connection, uid, "processing", services.field_config_update, field_uid=field_uid,
                body=form.body(), success="Field configuration saved.", form=None, form_name="field_form")


@connection_view(ADMIN)  # deleting a dataset's parts destroys work: admins only
@require_POST
def field_config_delete(request, connection, uid: str, field_uid: str):
    return _run(request, connection, uid, "processing", services.field_config_delete, field_uid=field_uid,
                success="Field configuration deleted.")


# ---------------------------------------------------------------------------------- schedules and versions

@connection_view(OPERATE)
@require_POST
def schedule_add(request, connection, uid: str):
    form = f.ScheduleForm(request.POST)
    if not form.is_valid():
        return _invalid(request, connection, uid, "schedules", form, "schedule_form")
    cron = form.cleaned_data["cron"]
    return _run(request, connection, uid, "schedules", services.schedule_create, cron=cron,
                success=f"Schedule {cron} added.", form=form, form_name="schedule_form")


@connection_view(ADMIN)  # deleting a dataset's parts destroys work: admins only
@require_POST
def schedule_delete(request, connection, uid: str, schedule_uid: str):
    return _run(request, connection, uid, "schedules", services.schedule_delete, schedule_uid=schedule_uid,
                success="Schedule deleted.")


@connection_view(OPERATE)
@require_POST
def version_restore(request, connection, uid: str, version_uid: str):
    return _run(request, connection, uid, "versions", services.version_restore, version_uid=version_uid,
                success="Version restored. Publish the dataset to apply it to the data.")


# ---------------------------------------------------------------------------------------------- attachments

@accepts_upload(max_bytes=lambda: settings.PORTALADMIN_MAX_UPLOAD_BYTES)
@connection_view(OPERATE)
@require_POST
def attachment_upload(request, connection, uid: str):
    form = f.AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _invalid(request, connection, uid, "attachments", form, "attachment_form")
    upload = form.cleaned_data["file"]
    upload.seek(0)
    return _run(request, connection, uid, "attachments", services.attachment_upload,
                file=upload.file, filename=upload.name,
                content_type=upload.content_type or "application/octet-stream",
                success=f"{upload.name} attached.", form=form, form_name="attachment_form")


@connection_view(ADMIN)  # deleting a dataset's parts destroys work: admins only
@require_POST
def attachment_delete(request, connection, uid: str, attachment_uid: str):
    return _run(request, connection, uid, "attachments", services.attachment_delete, attachment_uid=attachment_uid,
                success="Attachment deleted.")


# ---------------------------------------------------------------------------------------------- security

@connection_view(ADMIN)
@require_POST
def security_update(request, connection, uid: str):
    form = f.SecurityForm(request.POST)
    if not form.is_valid():
        return _invalid(request, connection, uid, "security", form, "security_form")
    return _run(request, connection, uid, "security", services.dataset_security_update,
                is_restricted=form.cleaned_data["is_restricted"], default_security=form.default_security(),
                success="Security saved.", form=form, form_name="security_form", dataset_level=True)


@connection_view(ADMIN)
@require_POST
def ruleset_save(request, connection, uid: str, kind: str | None = None, principal: str | None = None):
    data = request.POST.copy()
    if kind and principal:  # editing: the target comes from the URL
        data["kind"], data["principal"] = kind, principal
    form = f.RulesetForm(data)
    if not form.is_valid():
        return _invalid(request, connection, uid, "security", form, "ruleset_form")
    d = form.cleaned_data
    return _run(request, connection, uid, "security", services.ruleset_save,
                kind=d["kind"], principal=d["principal"], permissions=d["permissions"],
                create=not (kind and principal),
                success=f"Ruleset of {d['principal']} saved.", form=form, form_name="ruleset_form")


@connection_view(ADMIN)
@require_POST
def ruleset_delete(request, connection, uid: str, kind: str, principal: str):
    if kind not in ("user", "group"):
        raise Http404("No such ruleset kind.")
    return _run(request, connection, uid, "security", services.ruleset_delete, kind=kind, principal=principal,
                success=f"Ruleset of {principal} removed.")
