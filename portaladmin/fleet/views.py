"""The fleet pages: the overview (home), the cross-portal dataset board, harvester health, people.

Thin FBVs: permission → form → one selector/service → page or `#partial` (HTMX) → messages / HX headers.
Per-row and per-connection roles are checked in the services (403 on posts by lower roles).
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portaladmin.core.htmx import is_partial, messages_only, redirect, render_page
from portaladmin.fleet import selectors, services
from portaladmin.fleet.cards import card_html
from portaladmin.fleet.counts import dataset_counts
from portaladmin.fleet.forms import (
    FleetBulkForm,
    FleetDatasetFilterForm,
    HarvesterFilterForm,
    OffboardForm,
    PersonLookupForm,
)
from portaladmin.fleet.kinds import OFFBOARD_KIND
from portaladmin.fleet.rows import board_rows_html, connection_urls
from portaladmin.jobs.selectors import job_list
from portaladmin.jobs.services import job_can_operate
from portaladmin.portals.models import ROLE_RANK, Role
from portaladmin.portals.permissions import connections_visible_to, get_connection_for, role_for

PAGE_SIZE = 50
OVERVIEW_POLL_SECONDS = 15
SORT_COLUMNS = [("dataset_id", "Dataset id"), ("title", "Title"), ("updated", "Updated"), ("status", "Status")]


def _roles(user, connections) -> dict[int, Role | None]:
    return {c.pk: role_for(user, c) for c in connections}


def _max_rank(roles) -> int:
    return max((ROLE_RANK.get(r, 0) for r in roles if r), default=0)


# --- overview (the home page) ------------------------------------------------------------------------
@require_GET
def overview(request):
    cards = selectors.overview_cards(user=request.user)
    watch = selectors.watchdog(user=request.user, connections=[card.connection for card in cards])
    for job in watch.stuck_jobs + watch.failed_jobs:
        job.can_operate = job_can_operate(request.user, job)
    now = timezone.now()
    for card in cards:
        card.html = card_html(card, now=now)
    roles = {card.connection.pk: card.role for card in cards}
    ctx = {"cards": cards, "watch": watch, "poll_seconds": OVERVIEW_POLL_SECONDS, "now": now,
           "operate_on": {pk for pk, r in roles.items() if ROLE_RANK.get(r, 0) >= ROLE_RANK[Role.OPERATOR]}}
    if not is_partial(request):  # the charts sit outside the part polled every 15 s
        ctx["dataset_chart"] = selectors.dataset_status_chart(connections=[card.connection for card in cards])
        ctx["job_chart"] = selectors.jobs_per_day_chart(jobs=job_list(user=request.user))
        ctx["duration_chart"] = selectors.publish_duration_chart(jobs=job_list(user=request.user),
                                                                 connections=[card.connection for card in cards])
        ctx["harvest_chart"] = selectors.harvester_runs_chart(jobs=job_list(user=request.user))
    return render_page(request, "fleet/overview.html", ctx, partial="overview")


@require_POST
def watchdog_dataset_abort(request, conn: str, uid: str):
    connection, _ = get_connection_for(request.user, conn, Role.OPERATOR)
    job = services.watchdog_dataset_abort(actor=request.user, connection=connection, uid=uid, request=request)
    messages.success(request, f"Abort requested for {job.items.first().label} on {connection.name}.")
    return redirect(request, job.get_absolute_url())


@require_POST
def watchdog_harvester_abort(request, conn: str, uid: str):
    connection, _ = get_connection_for(request.user, conn, Role.OPERATOR)
    job = services.watchdog_harvester_abort(actor=request.user, connection=connection, uid=uid, request=request)
    messages.success(request, f"Abort requested for harvester {job.items.first().label} on {connection.name}.")
    return redirect(request, job.get_absolute_url())


@require_POST
def watchdog_job_retry(request, job_id: int):
    try:
        job = services.watchdog_job_retry(actor=request.user, job_id=job_id, request=request)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect(request, reverse("home"))
    messages.success(request, f"Retrying the failed items of job #{job_id} as job #{job.pk}.")
    return redirect(request, job.get_absolute_url())


@require_POST
def watchdog_job_cancel(request, job_id: int):
    job = services.watchdog_job_cancel(actor=request.user, job_id=job_id, request=request)
    messages.success(request, f"Job #{job.pk} is being cancelled.")
    return redirect(request, job.get_absolute_url())


# --- the cross-portal dataset board ---------------------------------------------------------------
@require_GET
def datasets_board(request):
    started = time.perf_counter()
    connections = list(connections_visible_to(request.user).order_by("name"))
    form = FleetDatasetFilterForm(request.GET or None, connections=connections)
    filters = form.filters()
    shown = [c for c in connections if not filters.get("connection_slug") or c.slug == filters["connection_slug"]]
    counts = dataset_counts(connections=shown)  # the maintained figures: the total and the status knowledge
    page = selectors.fleet_dataset_page(user=request.user, page=form.page_number(), per_page=PAGE_SIZE,
                                        connections=connections, counts=counts,
                                        after=request.GET.get("after", ""), before=request.GET.get("before", ""),
                                        **filters)
    query = request.GET.copy()
    for name in ("page", "after", "before"):  # the position: links and filters start again from the top
        query.pop(name, None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    roles = _roles(request.user, connections)
    operate_on = {pk for pk, r in roles.items() if ROLE_RANK.get(r, 0) >= ROLE_RANK[Role.OPERATOR]}
    row_html = board_rows_html(page.object_list, urls=connection_urls(connections), operate_on=operate_on)
    ctx = {"form": form, "filters": filters, "page_obj": page, "rows": page.object_list, "row_html": row_html,
           "querystring_base": query.urlencode() + "&" if query else "", "filter_query": query.urlencode(),
           "operate_on": operate_on, "can_operate_any": bool(operate_on), "connections": connections,
           "sort_columns": SORT_COLUMNS, "sort_base": sort_query.urlencode() + "&" if sort_query else "",
           # a list, not the QueryDict: in a template, `form.data.items` would read a parameter named "items"
           "bulk_params": [(k, v) for k, v in query.items() if k != "csrfmiddlewaretoken"],
           "knowledge": selectors.board_knowledge(counts)}
    response = render_page(request, "fleet/datasets.html", ctx, partial="board")
    response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


@require_POST
def datasets_bulk(request):
    form = FleetBulkForm(request.POST)
    if not form.is_valid():
        for error in form.non_field_errors() or ["Choose publish or unpublish."]:
            messages.error(request, error)
        return _reswap_messages(request)
    data = form.cleaned_data
    if data["action"] == "metadata":
        return _to_bulk_metadata(request, data)
    try:
        outcome = services.fleet_dataset_bulk(actor=request.user, action=data["action"], request=request,
                                              **_bulk_selection(request, data))
    except ValueError as exc:
        messages.error(request, str(exc))
        return _reswap_messages(request)
    for name, n in sorted(outcome.refused.items()):
        messages.warning(request, f"{n} dataset(s) on {name} refused: you are only a viewer there.")
    if outcome.missing:
        messages.warning(request, f"{outcome.missing} selected dataset(s) are no longer in the catalogue.")
    if outcome.job is None:
        messages.error(request, "Nothing to do: no selected dataset can be changed.")
        return _reswap_messages(request)
    messages.success(request, f"{data['action'].capitalize()} of {outcome.accepted} dataset(s) started as "
                              f"job #{outcome.job.pk}.")
    return redirect(request, outcome.job.get_absolute_url())


def _bulk_selection(request, data) -> dict:
    """What a board bulk action is about: every row matching the board's filters (scope "all", as a queryset)
    or the ticked rows."""
    if data.get("scope") == "all":
        filter_form = FleetDatasetFilterForm(request.POST, connections=connections_visible_to(request.user))
        return {"queryset": selectors.fleet_datasets(user=request.user, **filter_form.filters())}
    return {"rows": services.parse_selection(data["sel"])}


METADATA_SELECTION = "bulk-metadata:fleet"


def _to_bulk_metadata(request, data) -> HttpResponse:
    """The board's selection (or every row matching its filters) goes to the bulk metadata editor, fixed now."""
    from portaladmin.datasets.views.bulk_metadata import SELECTION_MAX

    try:
        selection = _bulk_selection(request, data)
        if "queryset" in selection:
            selection["limit"] = SELECTION_MAX
        targets, outcome = services.fleet_bulk_targets(actor=request.user, **selection)
    except ValueError as exc:
        messages.error(request, str(exc))
        return _reswap_messages(request)
    for name, n in sorted(outcome.refused.items()):
        messages.warning(request, f"{n} dataset(s) on {name} left out: you are only a viewer there.")
    if not targets:
        messages.error(request, "Nothing to edit: no selected dataset is on a portal where you are operator.")
        return _reswap_messages(request)
    request.session[METADATA_SELECTION] = [[c.pk, t["target"]] for c, items in targets.items() for t in items]
    return redirect(request, reverse("fleet:datasets-metadata"))


@require_http_methods(["GET", "POST"])
def datasets_metadata(request):
    """The bulk metadata editor over the board's selection: one job across portals."""
    from portaladmin.datasets.views.bulk_metadata import bulk_metadata_page

    pairs = [(int(c), str(u)) for c, u in request.session.get(METADATA_SELECTION) or []]
    targets, _ = services.fleet_bulk_targets(actor=request.user, rows=pairs) if pairs else ({}, None)
    if not targets:
        messages.error(request, "Select datasets on the board first (then “Edit metadata…”).")
        return redirect(request, reverse("fleet:datasets"))
    return bulk_metadata_page(request, targets=targets, action_url=reverse("fleet:datasets-metadata"),
                              back_url=reverse("fleet:datasets"), session_key=METADATA_SELECTION)


@require_POST
def datasets_metadata_undo(request, job_id: int):
    from portaladmin.datasets.bulk_metadata import KIND
    from portaladmin.datasets.views.bulk_metadata import undo_response
    from portaladmin.jobs.selectors import job_get_for_user

    job = job_get_for_user(user=request.user, job_id=job_id)
    if not job_can_operate(request.user, job):  # a viewer is told why, before anything else
        raise PermissionDenied("You need the operator role on every connection of this job.")
    if job.kind != KIND:
        raise Http404("Not a metadata edit.")
    return undo_response(request, job)


def _reswap_messages(request) -> HttpResponse:
    """Only the messages change (HTMX); a plain form post goes back to the board."""
    if is_partial(request):
        return messages_only(request)
    return redirect(request, reverse("fleet:datasets"))


# --- the harvester health board -------------------------------------------------------------------
@require_GET
def harvesters_board(request):
    connections = list(connections_visible_to(request.user).order_by("name"))
    form = HarvesterFilterForm(request.GET or None, connections=connections)
    rows = selectors.fleet_harvesters(user=request.user, **form.filters())
    ctx = {"form": form, "rows": rows, "groups": selectors.harvester_error_groups(rows),
           "refreshes": selectors.harvester_refresh_states(user=request.user)}
    return render_page(request, "fleet/harvesters.html", ctx, partial="harvester-board")


@require_POST
def harvesters_refresh(request):
    """A read of the portals: any member may ask; it runs in the worker."""
    slug = request.POST.get("connection", "")
    refreshed = services.harvester_snapshot_request(user=request.user, connection_slug=slug)
    if not refreshed:
        raise Http404("No such connection.")
    messages.info(request, f"Refreshing the harvesters of {len(refreshed)} connection(s) in the background.")
    return redirect(request, reverse("fleet:harvesters") + (f"?{urlencode({'connection': slug})}" if slug else ""))


# --- people across portals ----------------------------------------------------------------------------
@require_GET
def people(request):
    form = PersonLookupForm(request.GET or None)
    results = None
    if form.is_valid():
        results = selectors.person_lookup(user=request.user, query=form.cleaned_data["q"])
    can_admin_any = _max_rank(_roles(request.user, connections_visible_to(request.user)).values()) >= 3
    ctx = {"form": form, "results": results, "can_admin_any": can_admin_any,
           "found": sum(len(r.matches) for r in results or [])}
    return render_page(request, "fleet/people.html", ctx, partial="people-results")


@require_POST
def people_offboard(request):
    form = OffboardForm(request.POST)
    if not form.is_valid() or not form.accounts():
        messages.error(request, "Select at least one portal to offboard from.")
        return redirect(request, reverse("fleet:people") + "?" + urlencode({"q": form.data.get("person", "")}))
    job = services.person_offboard_start(actor=request.user, accounts=form.accounts(),
                                         label=form.cleaned_data.get("person") or "", request=request)
    messages.success(request, f"Offboarding started as job #{job.pk}.")
    return redirect(request, reverse("fleet:offboard", kwargs={"job_id": job.pk}))


@require_GET
def offboard_status(request, job_id: int):
    """Per-portal results of an offboarding job, polled until it ends."""
    from portaladmin.jobs.selectors import job_get_for_user, job_items

    job = job_get_for_user(user=request.user, job_id=job_id)
    if job.kind != OFFBOARD_KIND:
        raise Http404("Not an offboarding job.")
    ctx = {"job": job, "items": list(job_items(job=job))}
    if is_partial(request):
        response = render(request, "fleet/offboard.html#offboard-results", ctx)
        if not job.is_active:
            response.status_code = 286  # htmx: stop polling
        return response
    return render(request, "fleet/offboard.html", ctx)
