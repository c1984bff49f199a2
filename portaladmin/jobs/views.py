"""The publishing monitor: jobs list, job page (polled by HTMX from the database), retry and cancel."""

import json
import math

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from portaladmin.core.htmx import is_partial, redirect, render_page, trigger, with_messages
from portaladmin.core.live import changed, job_keys
from portaladmin.jobs.forms import JobFilterForm
from portaladmin.jobs.models import ItemStatus
from portaladmin.jobs.registry import get_kind
from portaladmin.jobs.selectors import job_get_for_user, job_items, job_list, job_send_queue
from portaladmin.jobs.services import (
    job_can_operate,
    job_cancel,
    job_outcome_text,
    job_retry_failed,
    job_retryable_items,
)
from portaladmin.jobs.watch import job_watched
from portaladmin.portals.permissions import connections_visible_to

ITEMS_PER_PAGE = 200


def jobs_list(request):
    form = JobFilterForm(request.GET or None, connections=connections_visible_to(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(job_list(user=request.user, filters=filters), 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {"form": form, "page_obj": page, "jobs": page.object_list,
           "querystring_base": query.urlencode() + "&" if query else ""}
    return render_page(request, "jobs/list.html", ctx, partial="results")


def _detail_context(request, job):
    status = request.GET.get("item_status") or None
    page = Paginator(job_items(job=job, status=status), ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    try:
        kind = get_kind(job.kind)
    except LookupError:  # a kind removed since the job ran: its items stay readable, without links
        kind = None
    for item in items:
        item.target_url = kind.target_url(item) if kind else ""
    query = request.GET.copy()
    query.pop("page", None)
    retryable = len(job_retryable_items(job=job)) if job.failed_count and not job.is_active else 0
    return {"job": job, "items": items, "retryable_count": retryable, "cancel_eta": cancel_eta(job),
            "send_eta": send_eta(job), "page_obj": page, "item_status": status or "",
            "querystring_base": query.urlencode() + "&" if query else "",
            "can_operate": job_can_operate(request.user, job), "item_filters": ItemStatus.choices}


def send_eta(job) -> int | None:
    """Seconds until the items waiting to be sent have all been sent, when the kind's sends share the portal's
    request budget with the status reads (engine.paced): at least half the budget per tick goes to sends."""
    from portaladmin.jobs.engine import paced
    from portaladmin.jobs.registry import get_kind

    if not (job.pending_count and job.is_active and not job.cancel_requested_at):
        return None
    try:
        if not paced(get_kind(job.kind)):
            return None
    except LookupError:
        return None
    # Per portal (each has its own budget; a job on several is as slow as its slowest), and the jobs with sends
    # waiting on a portal take turns there (engine.dispatch_due_sends): a job sharing it with another gets half.
    ticks = max((math.ceil(pending * jobs / max(1, (budget or settings.JOBS_PORTAL_REQUEST_BUDGET) // 2))
                 for budget, pending, jobs in job_send_queue(job=job)), default=0)
    return ticks * math.ceil(settings.JOBS_POLL_INTERVAL) or None


def cancel_eta(job) -> int | None:
    """Seconds until every item being stopped has had its abort or read: one request each, within the budget."""
    if not (job.cancel_requested_at and job.is_active and job.running_count):
        return None
    from portaladmin.jobs.engine import portal_budget

    budget = portal_budget(job.connection) if job.connection else settings.JOBS_PORTAL_REQUEST_BUDGET
    return math.ceil(job.running_count / budget) * math.ceil(settings.JOBS_POLL_INTERVAL)


def job_detail(request, job_id: int):
    from portaladmin.fleet.selectors.charts import job_timeline_chart

    job = job_get_for_user(user=request.user, job_id=job_id)
    ctx = _detail_context(request, job)
    chart = job_timeline_chart(job=job)
    if not is_partial(request):
        ctx["timeline_chart"] = chart
        if job.is_active:
            job_watched(job.pk)
        return render(request, "jobs/detail.html", ctx)
    response = render(request, "jobs/detail.html#job-progress", ctx)
    # The chart rides on the 2-s progress poll (no request of its own, no database write): its numbers, its table
    # and its caption swapped out of band; app.js redraws the chart in place. The last poll (the job ended)
    # brings the final numbers.
    live = render(request, "jobs/detail.html#job-timeline-live", {
        "job": job, "timeline_chart": chart, "timeline_json": json.dumps(chart), "oob": True})
    response.content = response.content + live.content
    return _polling_response(request, job, response)


def job_status_fragment(request, job_id: int):
    """The small embeddable progress fragment (components/job_status.html), polled the same way."""
    job = job_get_for_user(user=request.user, job_id=job_id)
    response = render(request, "components/job_status.html", {"job": job, "poll": True})
    return _polling_response(request, job, response)


def _polling_response(request, job, response):
    """While the job runs: 200 (keep polling). Once it ended: 286 (htmx stops) plus a jobFinished toast.

    Each time the job's progress moved since the poller's last look (`seen`, the done count it showed), and when
    it ends, the answer says which objects changed (portaladmin.core.live), so the rows and headings follow.
    """
    if job.is_active:  # someone is looking: the poller reads this job's items every tick (jobs/watch.py)
        job_watched(job.pk)
    seen = request.GET.get("seen")
    moved = seen is not None and seen != str(job.done_count)
    if job.is_active:
        response = with_messages(request, response)
        return changed(response, job_keys(job)) if moved else response
    stop = HttpResponseStopPolling(response.content)
    level = {"succeeded": "success", "cancelled": "info"}.get(job.status, "error")
    changed(stop, job_keys(job))
    return trigger(stop, "jobFinished", {"text": job_outcome_text(job), "level": level})


@require_POST
def job_retry(request, job_id: int):
    job = job_get_for_user(user=request.user, job_id=job_id)
    if not job_can_operate(request.user, job):
        raise PermissionDenied("You need the operator role on every connection of this job.")
    try:
        new_job = job_retry_failed(job=job, actor=request.user, request=request)
    except ValueError as exc:
        messages.warning(request, str(exc))
        return redirect(request, job.get_absolute_url())
    messages.success(request, f"Retrying {new_job.total} failed item(s) in job #{new_job.pk}.")
    return redirect(request, new_job.get_absolute_url())


@require_POST
def job_cancel_view(request, job_id: int):
    job = job_get_for_user(user=request.user, job_id=job_id)
    if not job_can_operate(request.user, job):
        raise PermissionDenied("You need the operator role on every connection of this job.")
    if not job.is_active:
        messages.info(request, "This job has already ended.")
    else:
        job_cancel(job=job, actor=request.user, request=request)
        messages.success(request, "Cancelled: pending items will not start; items in progress are being aborted.")
    return redirect(request, job.get_absolute_url())
