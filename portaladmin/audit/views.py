from django.core.paginator import Paginator
from django.utils import timezone

from portaladmin.audit.forms import ActivityFilterForm
from portaladmin.audit.selectors import audit_event_list
from portaladmin.core.csvout import csv_streaming_response
from portaladmin.core.htmx import render_page
from portaladmin.portals.permissions import connections_visible_to


def _filtered(request):
    form = ActivityFilterForm(request.GET or None, connections=connections_visible_to(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    return form, audit_event_list(user=request.user, filters=filters)


def activity_list(request):
    form, events = _filtered(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {"form": form, "page_obj": page, "events": page.object_list,
           "querystring_base": query.urlencode() + "&" if query else ""}
    return render_page(request, "audit/list.html", ctx, partial="results")


def activity_export(request):
    _, events = _filtered(request)

    def rows():
        yield ["time", "person", "connection", "action", "target", "outcome", "error", "ip", "job"]
        for e in events.iterator(chunk_size=2000):
            yield [e.created_at.isoformat(), e.actor_name, e.connection_name, e.action, e.target, e.outcome,
                   e.error, e.ip or "", e.job_id or ""]

    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return csv_streaming_response(rows(), filename=f"portaladmin-activity-{stamp}.csv")
