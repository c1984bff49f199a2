"""Compare a dataset with its counterpart on another connection, preview the promote, start it.

Roles: viewer on both connections to compare and dry-run; operator on the source and admin on the target to
promote (a promote deletes what the target has and the source has not). No role on the target = 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from portaladmin.core.portalerrors import portal_error_message, portal_page
from portaladmin.portals.client.errors import PortalError
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.permissions import OPERATE, VIEW, connections_visible_to, get_connection_for
from portaladmin.promote import services
from portaladmin.promote.forms import PromoteForm


def _target(request, source):
    slug = (request.GET.get("to") or request.POST.get("to") or "").strip()
    if not slug:
        return None
    if slug == source.slug:
        raise Http404("Compare with another connection.")
    return get_connection_for(request.user, slug, VIEW)[0]


def _others(request, source):
    return connections_visible_to(request.user).exclude(pk=source.pk).order_by("name")


@require_GET
@connection_view(VIEW)
@portal_page(not_found="This dataset is not on the portal (or the chosen counterpart is not).")
def compare_view(request, connection, uid):
    target = _target(request, connection)
    ctx = {"connection": connection, "uid": uid, "others": _others(request, connection), "target": target,
           "chosen": request.GET.get("target", "").strip()[:100]}
    if target is not None:
        comparison = services.compare(source=connection, source_uid=uid, target=target, target_uid=ctx["chosen"])
        form = PromoteForm(initial={"to": target.slug, "target": comparison.target.get("uid", ""),
                                    "dataset_id": comparison.source["dataset_id"],
                                    "parts": comparison.changed_parts and [
                                        p for p in comparison.changed_parts if p in services.PROMOTABLE]
                                    or list(services.PROMOTABLE)})
        ctx.update(comparison=comparison, form=form,
                   can_promote=services.can_promote(request.user, connection, target),
                   differs=[d for d in comparison.diffs if d.changed])
    return render(request, "promote/compare.html", ctx)


@require_GET
@connection_view(VIEW)
@portal_page()
def dry_run_view(request, connection, uid):
    target = _target(request, connection)
    if target is None:
        raise Http404("Choose a connection to promote to.")
    form = PromoteForm(request.GET)
    if not form.is_valid():
        return render(request, "promote/dry_run.html", {"connection": connection, "form": form, "uid": uid,
                                                        "target": target}, status=400)
    data = form.cleaned_data
    others = list(_others(request, connection).exclude(pk=target.pk))
    chosen = set(request.GET.getlist("also")[:20])
    runs = []  # one dry run per target portal: each is compared and planned on its own
    for one in [target, *[c for c in others if c.slug in chosen]]:
        comparison = services.compare(source=connection, source_uid=uid, target=one,
                                      target_uid=data["target"] if one == target else "")
        plans = services.dry_run(comparison=comparison, target=one, parts=data["parts"], publish=data["publish"],
                                 dataset_id=data["dataset_id"])
        runs.append({"target": one, "plans": plans, "exists": comparison.target["exists"],
                     "total": sum(1 for p in plans for c in p.calls if c.op != "none"),
                     "can_promote": services.can_promote(request.user, connection, one)})
    also = [c for c in others if services.can_promote(request.user, connection, c)]
    return render(request, "promote/dry_run.html", {
        "connection": connection, "uid": uid, "target": target, "runs": runs, "form": form, "also": also,
        "chosen": [r["target"].slug for r in runs[1:]], "total": sum(r["total"] for r in runs),
        "can_promote": all(r["can_promote"] for r in runs)})


@require_POST
@connection_view(OPERATE)
def start_view(request, connection, uid):
    target = _target(request, connection)
    form = PromoteForm(request.POST)
    if target is None or not form.is_valid():
        messages.error(request, "Choose the connection to promote to, the parts and the dataset_id.")
        return render(request, "promote/dry_run.html", {"connection": connection, "form": form, "uid": uid,
                                                        "target": target}, status=400)
    data = form.cleaned_data
    targets = {target: data["target"]}
    for slug in request.POST.getlist("also")[:20]:  # more targets, each matched by dataset_id
        other = get_connection_for(request.user, slug, VIEW)[0]
        if other.pk != connection.pk:
            targets.setdefault(other, "")
    try:
        job = services.promote_start(actor=request.user, source=connection, source_uid=uid,
                                     dataset_id=data["dataset_id"], targets=targets,
                                     parts=data["parts"], publish=data["publish"], request=request)
    except (ValueError, PortalError) as exc:
        text = portal_error_message(exc, wrote=True) if isinstance(exc, PortalError) else str(exc)
        messages.error(request, text)
        return redirect(f"{request.path.rsplit('start/', 1)[0]}?to={target.slug}")
    messages.success(request, "Promote started: one step per part; it stops at the first step the target refuses.")
    return redirect(job.get_absolute_url())


@require_GET
@connection_view(VIEW)
def dependents_view(request, connection, uid):
    """The pages that reference this dataset, on every connection this person can see (a small fragment)."""
    from portaladmin.portals.permissions import ADMIN, has_role
    from portaladmin.promote.dependents import confirm_text, dataset_dependents

    dataset_id = request.GET.get("dataset_id", "").strip()[:255]
    found = dataset_dependents(user=request.user, dataset_id=dataset_id, uid=uid)
    # The Unpublish and Delete confirmations are swapped in out of band, saying which pages break (for the people
    # who have those buttons).
    return render(request, "promote/_dependents.html", {
        "found": found, "dataset_id": dataset_id, "connection": connection, "uid": uid,
        "dependents_text": confirm_text(found.pages), "can_operate": has_role(request.user, connection, OPERATE),
        "can_admin": has_role(request.user, connection, ADMIN), "with_delete": request.GET.get("delete") == "1"})


@require_GET
@connection_view(VIEW)
def drift_view(request, connection):
    """Datasets that differ between this connection and one or several others, or are missing on one (catalogues)."""
    from urllib.parse import urlencode

    from django.core.paginator import Paginator

    from portaladmin.promote.drift import drift_fleet, fleet_counts

    targets = []
    for slug in request.GET.getlist("to")[:10]:
        slug = slug.strip()
        if slug == connection.slug:
            raise Http404("Compare with another connection.")
        if slug:
            one = get_connection_for(request.user, slug, VIEW)[0]
            if one not in targets:
                targets.append(one)
    ctx = {"connection": connection, "targets": targets, "target": targets[0] if len(targets) == 1 else None,
           "others": _others(request, connection), "chosen": [t.slug for t in targets]}
    if targets:
        rows = drift_fleet(source=connection, targets=targets)
        show = request.GET.get("show", "differs")
        ctx.update(counts=fleet_counts(rows), show=show,
                   page_obj=Paginator([r for r in rows if r.shown_under(show)], 100).get_page(request.GET.get("page")),
                   source_synced=_last_sync(connection),
                   synced=[(t, _last_sync(t)) for t in targets],
                   query=urlencode([("to", t.slug) for t in targets] + [("show", show)]))
    return render(request, "promote/drift.html", ctx)


def _last_sync(connection):
    return connection.dataset_snapshots.order_by("-synced_at").values_list("synced_at", flat=True).first()


def _page_kind(kind: str) -> str:
    from portaladmin.promote.pages import CODE, STUDIO

    if kind not in (STUDIO, CODE):
        raise Http404("No such kind of page.")
    return kind


@require_GET
@connection_view(VIEW)
@portal_page()
def page_compare_view(request, connection, kind, slug):
    """A studio or code editor page next to the page with the same slug on another connection."""
    from portaladmin.portals.client import client_for
    from portaladmin.promote.pages import page_diff, page_snapshot

    kind = _page_kind(kind)
    target = _target(request, connection)
    ctx = {"connection": connection, "kind": kind, "slug": slug, "target": target,
           "others": _others(request, connection)}
    if target is not None:
        source = page_snapshot(client_for(connection), kind, slug)
        if not source["exists"]:
            raise Http404("This page is not on the portal.")
        rows = page_diff(source, page_snapshot(client_for(target), kind, slug))
        others = list(_others(request, connection).exclude(pk=target.pk))
        also = [c for c in others if services.can_promote(request.user, connection, c)]
        chosen = set(request.GET.getlist("also")[:20])
        # the dry run of every chosen target (the one compared, and each "also" ticked), as the dataset promote's
        runs = services.page_dry_run(user=request.user, source=connection, kind=kind, slug=slug,
                                     source_snapshot=source,
                                     targets=[target, *[c for c in others if c.slug in chosen]])
        ctx.update(changes=[r for r in rows if r.status != "same"], same=sum(r.status == "same" for r in rows),
                   runs=runs, also=also, chosen=[r["target"].slug for r in runs[1:]],
                   total=sum(len(r["calls"]) for r in runs),
                   can_promote=all(r["can_promote"] for r in runs))
    return render(request, "promote/page_compare.html", ctx)


@require_POST
@connection_view(OPERATE)
def page_promote_view(request, connection, kind, slug):
    """Start the `promote.page` job (a step per part per target) and show it."""
    from portaladmin.portals.permissions import ADMIN, require_role

    kind = _page_kind(kind)
    target = _target(request, connection)
    if target is None:
        raise Http404("Choose a connection to promote to.")
    targets = [target]
    for other_slug in request.POST.getlist("also")[:20]:  # more targets, each matched by slug
        other = get_connection_for(request.user, other_slug, VIEW)[0]
        if other.pk != connection.pk and other not in targets:
            targets.append(other)
    for one in targets:
        require_role(request.user, one, ADMIN)
    try:
        job = services.page_promote_start(actor=request.user, source=connection, kind=kind, slug=slug,
                                          targets=targets, request=request)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect(f"{request.path.rsplit('promote/', 1)[0]}?to={target.slug}")
    messages.success(request, "Page promote started: one step per part; it stops at the first step the target "
                              "refuses.")
    return redirect(job.get_absolute_url())
