"""The catalogue list (served from the snapshot only: no remote call), refresh, bulk actions, create."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from portaladmin.core.csvout import csv_streaming_response
from portaladmin.core.htmx import is_partial, redirect, render_page, trigger
from portaladmin.core.live import changed, live_key
from portaladmin.core.templatetags.humantime import relative_text
from portaladmin.datasets.forms import BulkActionForm, DatasetCreateForm, DatasetListForm
from portaladmin.datasets.models import SnapshotStatus
from portaladmin.datasets.selectors import (
    DEFAULT_SORT,
    MATCHING_MAX,
    catalogue_sync_state,
    scan_state,
    snapshot_list,
    snapshot_page,
    snapshot_uids_matching,
)
from portaladmin.datasets.services import catalogue_sync_request, dataset_action_start, dataset_create
from portaladmin.datasets.services.scan import scan_request
from portaladmin.datasets.views.common import list_url, portal_failure, tab_url
from portaladmin.portals.client.errors import PortalError
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.permissions import ADMIN, OPERATE, VIEW, has_role

PAGE_SIZE = 50
STATUS_LABELS = dict(SnapshotStatus.choices) | {SnapshotStatus.UNKNOWN: "not checked yet"}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rows(page) -> list[dict]:
    """Plain dicts for the table: the template only prints strings (50 rows × 7 cells stay cheap to render)."""
    rows, now = [], timezone.now()
    for row in page.object_list:
        rows.append({"uid": row.uid, "dataset_id": row.dataset_id, "title": _cut(row.title, 90),
                     "keywords": _cut(", ".join(row.keywords or []), 80), "status": row.status,
                     "status_label": STATUS_LABELS.get(row.status, row.status),
                     "checked": relative_text(row.status_checked_at, now) if row.status_checked_at else "",  # "just now", not "0 minutes ago"
                     "late": _late_text(row),
                     "message": _cut(row.status_message, 300), "publication": row.publication, "access": "restricted" if row.is_restricted else "public", "updated": row.updated_at})
    return rows


def _late_text(row) -> str:
    """"" when on time; else what the "late" badge explains (last data update, due since)."""
    if not row.is_late:
        return ""
    modified = timezone.localtime(row.modified).strftime("%Y-%m-%d") if row.modified else "?"
    return f"Data last modified {modified}; expected again by {timezone.localtime(row.late_at):%Y-%m-%d %H:%M}"


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


def _list_context(request, connection) -> dict:
    form = DatasetListForm(request.GET)
    filters = form.filters()
    page = snapshot_page(connection=connection, page=form.page_number(), per_page=PAGE_SIZE, **filters)
    # The valid filters only, in a fixed order: links and the pushed URL stay canonical and shareable.
    params = {k: v for k, v in {"q": filters["q"], "published": _yes_no(filters["published"]),
                                "status": filters["status"], "restricted": _yes_no(filters["restricted"]),
                                "freshness": {True: "late", False: "on_time"}.get(filters["late"], ""),
                                "sort": filters["sort"] if filters["sort"] != DEFAULT_SORT else ""}.items() if v}
    sort_links = {}
    for key in ("dataset_id", "title", "updated", "status"):
        target = f"-{key}" if filters["sort"] == key else key
        direction = "asc" if filters["sort"] == key else "desc" if filters["sort"] == f"-{key}" else ""
        sort_links[key] = {"qs": urlencode({**params, "sort": target}), "dir": direction}
    return {"connection": connection, "form": form, "list_url": list_url(connection), "filters": filters,
            "page_obj": page, "rows": _rows(page), "querystring_base": urlencode(params) + "&" if params else "",
            "filter_query": urlencode(params),
            "sort_links": sort_links, "sync": catalogue_sync_state(connection=connection),
            "scan": scan_state(connection=connection)}


@connection_view(VIEW)
@require_GET
@vary_on_headers("HX-Request")
def dataset_list(request, connection):
    ctx = _list_context(request, connection)
    response = render_page(request, "datasets/list.html", ctx, partial="dataset-table")
    if is_partial(request):  # the address bar shows the canonical, shareable URL (no empty parameters)
        page = ctx["page_obj"].number
        query = ctx["querystring_base"] + (f"page={page}" if page > 1 else "")
        response["HX-Push-Url"] = ctx["list_url"] + ("?" + query.rstrip("&") if query else "")
    return response


def _progress_fragment(request, connection, *, name: str, state: dict):
    """The sync's or the scan's progress box; when the work the box was polling for ends, the table reloads
    (catalogueSynced) with what it read."""
    response = render_page(request, "datasets/list.html", {"connection": connection, name: state},
                           partial=f"{name}-status")
    if not state["running"] and request.GET.get("was") == "running":
        trigger(response, "catalogueSynced", {})
    return response


def _sync_fragment(request, connection):
    return _progress_fragment(request, connection, name="sync", state=catalogue_sync_state(connection=connection))


@connection_view(VIEW)
@require_GET
def sync_status(request, connection):
    """Polled while a sync runs; when it ends, tells the table to reload (catalogueSynced)."""
    return _sync_fragment(request, connection)


@connection_view(VIEW)
@require_POST
def refresh(request, connection):
    """Any member may refresh: it is a read of the portal, done in the background."""
    catalogue_sync_request(connection=connection, actor=request.user)
    messages.info(request, "The catalogue is being refreshed in the background.")
    if is_partial(request):
        return _sync_fragment(request, connection)
    return redirect(request, list_url(connection))


def _scan_fragment(request, connection):
    return _progress_fragment(request, connection, name="scan", state=scan_state(connection=connection))


@connection_view(VIEW)
@require_GET
def scan_status(request, connection):
    """How many statuses are known; polled while a requested scan runs (the database only)."""
    return _scan_fragment(request, connection)


@connection_view(OPERATE)
@require_POST
def scan_now(request, connection):
    """"Check statuses now": every dataset is read again by the background scan, within the portal's budget."""
    scan_request(connection=connection, actor=request.user)
    messages.info(request, "Checking every dataset's status in the background, within the portal's request budget.")
    if is_partial(request):
        return _scan_fragment(request, connection)
    return redirect(request, list_url(connection))


def _bulk_refused(request, connection, text: str):
    messages.error(request, text)
    if not is_partial(request):
        return redirect(request, list_url(connection))
    return render_page(request, "datasets/list.html", {"connection": connection, "job": None},
                       partial="bulk-result")


def _bulk_targets(connection, form) -> tuple[list[dict], str]:
    """The datasets a bulk action is about: the ticked rows, or every row matching the list's filter
    (snapshot_uids_matching). Returns (targets, why nothing can be done or "")."""
    if form.all_matching:
        uids = snapshot_uids_matching(connection=connection, querystring=form.cleaned_data["matching"])
        if len(uids) > MATCHING_MAX:
            return [], (f"More than {MATCHING_MAX:,} datasets match this filter: narrow it down, "
                        "or select the rows to change.")
    else:
        uids = form.cleaned_data["uid"]
    rows = snapshot_list(connection=connection).filter(uid__in=uids).values_list("uid", "dataset_id")
    targets = [{"target": uid, "label": dataset_id} for uid, dataset_id in rows]
    if not targets:
        return [], ("No dataset matches this filter any more; refresh the list." if form.all_matching else
                    "None of the selected datasets is in the catalogue any more; refresh the list.")
    return targets, ""


def _delete_confirmation(request, connection, form, targets: list[dict], *, changed_from: int | None = None):
    """Deleting cannot be undone: say how many datasets on which portal, and ask once more (a second POST
    with `confirmed`). For "all matching" the count is checked again on confirmation."""
    from portaladmin.promote.dependents import confirm_text, pages_referencing

    # The dependency check: pages (on every connection this person can see) that reference a dataset to delete.
    by_dataset, unreadable = pages_referencing(user=request.user,
                                               datasets=[(t["label"], t["target"]) for t in targets])
    ctx = {"connection": connection, "targets": targets[:20], "all_targets": targets, "count": len(targets),
           "more": max(0, len(targets) - 20), "all_matching": form.all_matching, "matching": form.cleaned_data.get("matching") or "",
           "changed_from": changed_from, "unreadable": unreadable,
           "dependents": [(t["label"], confirm_text(by_dataset[t["label"]])) for t in targets if t["label"] in by_dataset]}
    return render_page(request, "datasets/bulk_delete.html", ctx, partial="bulk-result")


@connection_view(OPERATE)
@require_POST
def bulk_action(request, connection):
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        return _bulk_refused(request, connection, " ".join(e for errs in form.errors.values() for e in errs))
    action = form.cleaned_data["action"]
    if action == "delete" and not has_role(request.user, connection, ADMIN):
        raise PermissionDenied(f"Deleting datasets needs the admin role on {connection.name}.")
    targets, refusal = _bulk_targets(connection, form)
    if refusal:
        return _bulk_refused(request, connection, refusal)
    if action == "metadata":  # the selection goes to the bulk editor (too long for a URL)
        from portaladmin.datasets.views.bulk_metadata import selection_key

        request.session[selection_key(connection)] = [t["target"] for t in targets]
        return redirect(request, reverse("datasets:bulk_metadata", kwargs={"conn": connection.slug}))
    if action == "delete":
        expected = request.POST.get("expected", "")
        if request.POST.get("confirmed") != "yes":
            return _delete_confirmation(request, connection, form, targets)
        if form.all_matching and expected != str(len(targets)):  # the filter's result changed meanwhile
            return _delete_confirmation(request, connection, form, targets,
                                        changed_from=int(expected) if expected.isdigit() else None)
    job = dataset_action_start(connection=connection, actor=request.user, action=action, targets=targets,
                               request=request)
    messages.success(request, f"{job.title}: started.")
    if not is_partial(request):
        return redirect(request, job.get_absolute_url())
    response = render_page(request, "datasets/list.html", {"connection": connection, "job": job},
                           partial="bulk-result")
    # The selection is cleared now; the rows follow the job (its poller says when they changed).
    return changed(response, [live_key("dataset", connection.slug, t["target"]) for t in targets], clear="uid")


EXPORT_HEADER = ("dataset_id", "uid", "title", "status", "published", "restricted", "late since", "keywords",
                 "publisher", "license", "theme", "data modified", "updated on the portal", "status checked")


def _iso(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


@connection_view(VIEW)
@require_GET
def dataset_export(request, connection):
    """The list's datasets as CSV, with the list's current filter and sort (every page), through the one
    formula-safe writer (core.csvout): titles and keywords come from the portal and are never trusted."""
    filters = DatasetListForm(request.GET).filters()
    rows = snapshot_list(connection=connection, **filters).iterator(chunk_size=1000)
    late_now = timezone.now()

    def lines():
        yield EXPORT_HEADER
        for row in rows:
            # the portal's status values as they are (error, limit_reached, unknown …): stable for a spreadsheet filter
            yield (row.dataset_id, row.uid, row.title, row.status, row.publication,
                   "yes" if row.is_restricted else "no",
                   _iso(row.late_at) if row.late_at and row.late_at < late_now else "",
                   ", ".join(row.keywords or []), row.publisher, row.license, row.theme, _iso(row.modified),
                   _iso(row.updated_at), _iso(row.status_checked_at))

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_streaming_response(lines(), filename=f"datasets-{connection.slug}-{stamp}.csv")


@connection_view(OPERATE)
@require_http_methods(["GET", "POST"])
def dataset_create_view(request, connection):
    form = DatasetCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dataset = dataset_create(connection=connection, actor=request.user, dataset_id=data["dataset_id"],
                                     title=data["title"], language=data["language"], modified=data["modified"],
                                     description=data["description"], keywords=data["keywords"],
                                     is_restricted=data["is_restricted"], request=request)
        except PortalError as exc:
            portal_failure(request, connection, exc, form=form)
        else:
            messages.success(request, f"Dataset {dataset.dataset_id} created.")
            return redirect(request, tab_url(connection, dataset.uid))
    return render_page(request, "datasets/create.html", {"connection": connection, "form": form},
                       partial="create-form")
