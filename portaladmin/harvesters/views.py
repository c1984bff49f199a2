"""Harvester pages: thin views over selectors/services. Viewers read, operators act, admins delete."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from portaladmin.core.csvout import csv_response
from portaladmin.core.htmx import is_partial, redirect, render_page, trigger, with_messages
from portaladmin.core.live import changed, live_key
from portaladmin.core.portalerrors import (
    form_add_portal_errors,
    portal_error_message,
    portal_page,
    request_wrote,
)
from portaladmin.harvesters import selectors, services
from portaladmin.harvesters.forms import HARVESTER_TYPES, DeleteForm, HarvesterForm, ScheduleForm, next_runs
from portaladmin.portals.client.errors import (
    PortalConflict,
    PortalError,
    PortalNotFound,
    PortalValidationError,
)
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.permissions import ADMIN, OPERATE, VIEW

T_LIST, T_DETAIL, T_FORM = "harvesters/list.html", "harvesters/detail.html", "harvesters/form.html"
T_SCHEDULE, T_DELETE = "harvesters/schedule.html", "harvesters/delete.html"


def _detail_url(connection, uid: str) -> str:
    return reverse("harvesters:detail", kwargs={"conn": connection.slug, "uid": uid})


def _portal_message(exc: PortalError, request) -> str:
    return portal_error_message(exc, wrote=request_wrote(request), thing="This harvester")


portal_errors = portal_page(not_found="No such harvester on this portal.")


def _harvester_or_404(connection, uid):
    try:
        return selectors.harvester_get(connection=connection, uid=uid)
    except PortalNotFound:
        raise Http404("No such harvester on this portal.") from None


@require_GET
@vary_on_headers("HX-Request")
@connection_view(VIEW)
def harvester_list(request, connection):
    ctx = {"connection": connection, "rows": [], "error": ""}
    try:
        ctx["rows"] = selectors.harvester_list(connection=connection)
        ctx["active"] = selectors.active_jobs_by_harvester(connection=connection)
        # one poller per running job: each time it moves, the rows it works on re-read themselves (core.live)
        ctx["active_jobs"] = list({job.pk: job for job in ctx["active"].values()}.values())
    except PortalError as exc:
        ctx["error"] = f"Could not read the harvesters: {exc}"
    return render_page(request, T_LIST, ctx, partial="harvester-table")


@require_GET
@connection_view(VIEW)
@portal_errors
def harvester_detail(request, connection, uid):
    harvester = _harvester_or_404(connection, uid)
    ctx = {"connection": connection, "h": harvester, "row": selectors.harvester_rows([harvester])[0],
           "config": services.writable_body(harvester.raw), "error": "", "uid": uid, "attached": None, "lazy": True,
           "editable": harvester.type in HARVESTER_TYPES}
    if request.GET.get("part") == "head":  # the heading alone: live updates (portaladmin.core.live)
        ctx.update(_job_context(connection, uid))
        return render(request, f"{T_DETAIL}#head", ctx)
    try:
        errors = selectors.harvester_errors(connection=connection, uid=uid)
        ctx.update(errors=errors, groups=selectors.errors_grouped(errors))
    except PortalConflict:
        ctx["errors_note"] = "The portal shows the errors once the current run is over."
    except PortalError as exc:
        ctx["errors_note"] = f"The errors could not be read: {exc}"
    try:
        schedule = selectors.harvester_schedule(connection=connection, uid=uid)
        ctx.update(schedule=schedule, runs=_runs(schedule))
    except PortalError as exc:
        ctx["schedule_note"] = f"The schedule could not be read: {exc}"
    ctx.update(_job_context(connection, uid))
    return render(request, T_DETAIL, ctx)


def _runs(schedule):
    if schedule is None:
        return []
    try:
        return next_runs(schedule.cron_schedule, schedule.timezone or "UTC")
    except (ValueError, KeyError, LookupError):
        return []


def _job_context(connection, uid):
    job = selectors.harvester_active_job(connection=connection, uid=uid)
    recent = selectors.harvester_jobs(connection=connection, uid=uid)
    job = job or (recent[0] if recent else None)
    item = selectors.job_item_for(job, uid) if job else None
    return {"job": job, "item": item, "recent_jobs": recent, "seen": _seen(job, item),
            "run_in_progress": _run_in_progress(job, item),
            "resource_error_groups": _group_details((item.details or {}).get("resource_errors")) if item else []}


def _run_in_progress(job, item) -> bool:
    """A start job still active, or the portal saying it runs: the heading offers Abort, never Start."""
    remote_running = bool(item and item.remote_state and item.remote_state != "idle" and job.is_active)
    return bool(job and job.is_active and job.kind == "harvester.start") or remote_running


def _seen(job, item) -> str:
    """What the job panel last showed: when the next poll differs, the heading and list rows re-read themselves."""
    if job is None:
        return ""
    details = (item.details or {}) if item else {}
    parts = [job.status, item.status if item else "", item.remote_state if item else "",
             *(str(details.get(k)) for k in ("progress_done", "harvested_datasets_count", "published_datasets_count",
                                             "resource_errors_count"))]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def _group_details(resource_errors):
    from portaladmin.portals.client.schemas import HarvesterErrors

    return selectors.errors_grouped(HarvesterErrors(resources=dict(resource_errors or {})))


@require_GET
@connection_view(VIEW)
@portal_errors
def harvester_job_status(request, connection, uid):
    """The live panel: job and item state from the database (the worker's poller reads the portal)."""
    ctx = {"connection": connection, "uid": uid, **_job_context(connection, uid)}
    response = render(request, f"{T_DETAIL}#job-panel", ctx)
    job, keys = ctx["job"], [live_key("harvester", connection.slug, uid)]
    if job is None or not job.is_active:
        stop = HttpResponseStopPolling(response.content)
        if job is not None and request.GET.get("was") == "active":
            level = "success" if job.status == "succeeded" else "error"
            trigger(stop, "jobFinished", {"text": f"{job.title}: {job.get_status_display().lower()}", "level": level})
            changed(stop, keys)
        return stop
    return changed(response, keys) if request.GET.get("seen") != ctx["seen"] else response


@require_GET
@connection_view(VIEW)
@portal_errors
def harvester_errors_csv(request, connection, uid):
    try:
        errors = selectors.harvester_errors(connection=connection, uid=uid)
    except PortalNotFound:
        raise Http404("No such harvester on this portal.") from None
    return csv_response(selectors.errors_rows(errors), filename=f"harvester-{uid}-errors.csv")


@require_GET
@connection_view(VIEW)
@portal_errors
def harvester_datasets(request, connection, uid):
    ctx = {"connection": connection, "uid": uid, "attached": None, "error": "", "dataset_link": dataset_link_kind()}
    try:
        ctx["attached"] = selectors.harvester_attached_datasets(connection=connection, uid=uid,
                                                                refresh=bool(request.GET.get("refresh")))
    except PortalError as exc:
        ctx["error"] = f"Could not read what this harvester lists: {exc}"
    return render(request, f"{T_DETAIL}#attached-datasets", ctx)


def dataset_link_kind() -> str:
    """datasets:detail when the datasets app provides it, else the list filtered by search."""
    from django.urls import NoReverseMatch

    try:
        reverse("datasets:detail", kwargs={"conn": "x", "uid": "x"})
        return "detail"
    except NoReverseMatch:
        return "search"


@require_GET
@connection_view(VIEW)
@portal_errors
def harvester_saved_preview(request, connection, uid):
    ctx = {"connection": connection, "preview": None, "error": "", "saved": True}
    try:
        ctx["preview"] = selectors.harvester_preview(connection=connection, uid=uid)
    except PortalError as exc:
        ctx["error"] = f"The portal could not preview this harvester: {exc}"
    return render(request, f"{T_FORM}#preview", ctx)


@require_http_methods(["GET", "POST"])
@connection_view(OPERATE)
@portal_errors
def harvester_create(request, connection):
    form = HarvesterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            harvester = services.harvester_create(connection=connection, actor=request.user, body=form.to_body(),
                                                  request=request)
        except PortalValidationError as exc:
            form_add_portal_errors(form, exc, aliases={"domain": "url"})
        except PortalError as exc:
            form.add_error(None, _portal_message(exc, request))
        else:
            messages.success(request, f"Harvester “{harvester.name}” created. Preview it, then start it when ready.")
            return redirect(request, _detail_url(connection, harvester.uid))
    return render_page(request, T_FORM, {"connection": connection, "form": form, "creating": True,
                                         "types": HARVESTER_TYPES}, partial="harvester-form")


@require_http_methods(["GET", "POST"])
@connection_view(OPERATE)
@portal_errors
def harvester_edit(request, connection, uid):
    current = _harvester_or_404(connection, uid)
    if current.type not in HARVESTER_TYPES:
        messages.error(request, f"portaladmin does not edit {current.type or 'this type of'} harvesters: "
                                "change it on the portal. You can still run, schedule and delete it here.")
        return redirect(request, _detail_url(connection, uid))
    form = HarvesterForm(request.POST or None, initial=HarvesterForm.initial_from(current.raw), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.harvester_update(connection=connection, actor=request.user, current=current,
                                      changes=form.to_body(), request=request)
        except PortalValidationError as exc:
            form_add_portal_errors(form, exc, aliases={"domain": "url"})
        except PortalError as exc:
            form.add_error(None, _portal_message(exc, request))
        else:
            messages.success(request, "Harvester saved. Start it to harvest with the new configuration.")
            return redirect(request, _detail_url(connection, uid))
    return render_page(request, T_FORM, {"connection": connection, "form": form, "creating": False, "h": current,
                                         "types": HARVESTER_TYPES}, partial="harvester-form")


@require_POST
@connection_view(OPERATE)
@portal_errors
def harvester_preview(request, connection, uid=None):
    """Preview the UNSAVED configuration in the form (unsaved_preview); nothing is saved."""
    current = _harvester_or_404(connection, uid) if uid else None
    form = HarvesterForm(request.POST, initial=HarvesterForm.initial_from(current.raw) if current else None,
                         editing=current is not None)
    ctx = {"connection": connection, "preview": None, "error": "", "saved": False}
    if not form.is_valid():
        ctx["error"] = "Fix the form's errors first: " + "; ".join(
            f"{form.fields[f].label if f in form.fields else ''} {' '.join(e)}".strip() for f, e in form.errors.items())
        return render(request, f"{T_FORM}#preview", ctx)
    body = services.merged_body(current, form.to_body())
    base = uid or services.preview_base_uid(connection=connection, harvester_type=body["type"])
    if base is None:
        ctx["error"] = ("The portal previews a configuration against a saved harvester, and this portal has no "
                        f"{HARVESTER_TYPES[body['type']]['label']} harvester yet. Save this one (it does not run "
                        "until you start it), then use Preview on its page.")
        return render(request, f"{T_FORM}#preview", ctx)
    try:
        ctx["preview"] = services.harvester_unsaved_preview(connection=connection, actor=request.user, uid=base,
                                                            body=body, request=request)
    except PortalError as exc:
        ctx["error"] = f"The portal could not preview this configuration: {exc}"
    return render(request, f"{T_FORM}#preview", ctx)


@require_POST
@connection_view(OPERATE)
@portal_errors
def harvester_action(request, connection, uid, action):
    try:
        job = services.harvester_action(connection=connection, actor=request.user, uid=uid, action=action,
                                        request=request)
    except services.HarvesterActionRefused as exc:
        messages.error(request, str(exc))
    except PortalError as exc:
        messages.error(request, _portal_message(exc, request))
    else:
        messages.info(request, f"{job.title}: job {job.pk} started. Progress shows below.")
    if is_partial(request):  # the heading follows at once (Abort instead of Start)
        ctx = {"connection": connection, "uid": uid, **_job_context(connection, uid)}
        response = with_messages(request, render(request, f"{T_DETAIL}#job-panel", ctx))
        return changed(response, [live_key("harvester", connection.slug, uid)])
    return redirect(request, _detail_url(connection, uid))


@require_http_methods(["GET", "POST"])
@connection_view(OPERATE)
@portal_errors
def harvester_schedule(request, connection, uid):
    harvester = _harvester_or_404(connection, uid)
    schedule = selectors.harvester_schedule(connection=connection, uid=uid)
    initial = {"cron_schedule": schedule.cron_schedule, "timezone": schedule.timezone or "UTC"} if schedule else None
    form = ScheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.harvester_schedule_save(connection=connection, actor=request.user, uid=uid, request=request,
                                             **form.cleaned_data)
        except PortalValidationError as exc:
            form_add_portal_errors(form, exc, aliases={"domain": "url"})
        except PortalError as exc:
            form.add_error(None, _portal_message(exc, request))
        else:
            messages.success(request, "Schedule saved.")
            return redirect(request, _detail_url(connection, uid))
    if form.is_bound and form.is_valid():
        runs, runs_tz = form.next_runs(), form.cleaned_data["timezone"]
    else:
        runs, runs_tz = _runs(schedule), (schedule.timezone if schedule else None) or "UTC"
    return render_page(request, T_SCHEDULE, {"connection": connection, "h": harvester, "form": form,
                                             "schedule": schedule, "runs": runs, "runs_tz": runs_tz},
                       partial="schedule-form")


@require_POST
@connection_view(OPERATE)
@portal_errors
def harvester_schedule_delete(request, connection, uid):
    try:
        deleted = services.harvester_schedule_delete(connection=connection, actor=request.user, uid=uid,
                                                     request=request)
    except PortalError as exc:
        messages.error(request, _portal_message(exc, request))
    else:
        messages.success(request, "Schedule deleted." if deleted else "This harvester had no schedule.")
    return redirect(request, _detail_url(connection, uid))


@require_http_methods(["GET", "POST"])
@connection_view(ADMIN)
@portal_errors
def harvester_delete(request, connection, uid):
    harvester = _harvester_or_404(connection, uid)
    form = DeleteForm(request.POST or None, harvester_name=harvester.name or harvester.uid)
    if request.method == "POST" and form.is_valid():
        try:
            services.harvester_delete(connection=connection, actor=request.user, uid=uid, request=request,
                                      delete_attached_datasets=form.delete_attached_datasets)
        except PortalError as exc:
            form.add_error(None, _portal_message(exc, request))
        else:
            kept = "deleted" if form.delete_attached_datasets else "kept (detached)"
            messages.success(request, f"Harvester “{harvester.name}” deleted; its datasets were {kept}.")
            return redirect(request, reverse("harvesters:list", kwargs={"conn": connection.slug}))
    return render_page(request, T_DELETE, {"connection": connection, "h": harvester, "form": form},
                       partial="delete-form")
