"""Compare, dry-run and promote a dataset from one connection to others (reads here; writes only in run_steps,
which the job engine calls in the worker)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied

from portaladmin.jobs.registry import ItemResult
from portaladmin.portals.client import client_for
from portaladmin.portals.client.errors import (
    PortalAuthError,
    PortalError,
    PortalRateLimited,
    PortalUnavailable,
)
from portaladmin.portals.models import Connection
from portaladmin.portals.permissions import ADMIN, OPERATE, has_role
from portaladmin.promote import apply, plan
from portaladmin.promote.diff import PartDiff, diff_snapshots
from portaladmin.promote.jobs_kinds import KIND, PAGE_KIND
from portaladmin.promote.snapshot import PART_LABELS, PARTS, empty_snapshot, find_counterpart, read_snapshot

PROMOTABLE = ("dataset", "metadata", "resources", "processors", "fields", "schedules", "security")
# What each step reads on each side ("dataset" needs the default metadata and the security to create it).
READS = {"dataset": ("metadata", "security"), "publication": ()}


@dataclass
class Comparison:
    source: dict
    target: dict
    diffs: list[PartDiff] = field(default_factory=list)

    @property
    def changed_parts(self) -> list[str]:
        return [d.name for d in self.diffs if d.changed]


def target_uid_for(*, client, dataset_id: str, chosen_uid: str = "") -> str:
    """The counterpart on the target: the dataset chosen by hand, else the one with the same dataset_id."""
    if chosen_uid:
        return chosen_uid
    found = find_counterpart(client, dataset_id)
    return found.uid if found else ""


def compare(*, source: Connection, source_uid: str, target: Connection, target_uid: str = "") -> Comparison:
    """Read both datasets and diff them (two portals, a few dozen GETs; nothing is written)."""
    one = read_snapshot(client_for(source), source_uid)
    target_client = client_for(target)
    uid = target_uid_for(client=target_client, dataset_id=one["dataset_id"], chosen_uid=target_uid)
    other = read_snapshot(target_client, uid) if uid else empty_snapshot(one["dataset_id"])
    return Comparison(one, other, diff_snapshots(one, other))


def _extra(part: str, target_client, source_snap: dict) -> dict:
    """What a part's plan needs to know of the target besides its snapshot: users and groups (security), the
    datasource connections (resources that use one)."""
    if part == "security":
        return _principals(target_client, source_snap)
    if part == "resources" and any(ref.get("connection_uid") for ref in source_snap["refs"]["resources"].values()):
        try:
            return {"target_connections": apply.connections_by_label(target_client)}
        except PortalAuthError as exc:  # this key may not list connections: send the source's uids and say so
            if not exc.is_permission:
                raise
            return {}
    return {}


def _plan(part, source, target, *, target_client, dataset_id="", wrote=False) -> plan.Plan:
    extra = _extra(part, target_client, source)
    one = plan.plan_part(part, source, target, dataset_id=dataset_id, wrote=wrote, **extra)
    if part == "resources" and "target_connections" not in extra and any(
            ref.get("connection_uid") for ref in source["refs"]["resources"].values()):
        one.notes.append("This portal's datasource connections could not be listed with its key: the resources "
                         "name the source's connections by uid, which this portal refuses if it has none such.")
    return one


def _principals(target_client, source_snap: dict) -> dict:
    users = list(source_snap.get("security", {}).get("users", {}))
    return {"known_users": apply.known_usernames(target_client, users),
            "target_groups": apply.groups_by_title(target_client)}


def dry_run(*, comparison: Comparison, target: Connection, parts, publish: bool, dataset_id: str) -> list[plan.Plan]:
    """The calls a promote would make now, part by part (reads the target's users and groups for security)."""
    plans, wrote = [], False
    for part in parts:
        one = _plan(part, comparison.source, comparison.target, target_client=client_for(target),
                    dataset_id=dataset_id, wrote=wrote)
        wrote = wrote or any(c.op not in ("none", "publish") for c in one.calls)
        plans.append(one)
    if publish:
        plans.append(plan.plan_part("publication", comparison.source, comparison.target, wrote=wrote))
    return plans


def promote_start(*, actor, source: Connection, source_uid: str, dataset_id: str, targets: dict[Connection, str],
                  parts, publish: bool, request=None):
    """One job: a step per part and per target. Needs operator on the source and admin on every target."""
    from portaladmin.jobs.services import job_create

    if not has_role(actor, source, OPERATE):
        raise PermissionDenied(f"Promoting needs the operator role on {source.name}.")
    steps = [p for p in PARTS if p in parts and p in PROMOTABLE] + (["publication"] if publish else [])
    if not steps:
        raise ValueError("Choose at least one part to promote.")
    items = {conn: [{"target": f"{dataset_id} · {PART_LABELS[p].lower()}", "label": PART_LABELS[p],
                     "payload": {"part": p}} for p in steps] for conn in targets}
    params = {"source_connection": source.pk, "source": source.slug, "source_uid": source_uid,
              "dataset_id": dataset_id, "parts": steps, "publish": publish,
              "target_uids": {str(conn.pk): uid for conn, uid in targets.items()}}
    names = ", ".join(conn.name for conn in targets)
    return job_create(kind=KIND, actor=actor, targets=items, params=params, request=request,
                      title=f"Promote {dataset_id} from {source.name} to {names}")


def _step(part, *, source_client, target_client, source_uid, target_uid, dataset_id, wrote) -> tuple[int, str, dict]:
    """Run one step: read both sides, plan, write. Returns (writes, target uid, details)."""
    reads = READS.get(part, (part,))
    source = read_snapshot(source_client, source_uid, parts=reads)
    target = read_snapshot(target_client, target_uid, parts=reads) if target_uid else empty_snapshot(dataset_id)
    if part == "publication":
        if not target_uid:
            raise _Refused("The dataset does not exist on this portal: nothing to publish.")
        return _publish_step(target_client, source, target, target_uid, wrote)
    one = _plan(part, source, target, target_client=target_client, dataset_id=dataset_id)
    if not target_uid and part != "dataset" and (one.calls or one.missing):
        raise _Refused("The dataset does not exist on this portal (the 'Dataset' step creates it).")
    if one.missing:  # refused before sending anything: a resource would point at a connection that is not there
        raise _Refused("No datasource connection like it on this portal (create it, then retry): "
                       + "; ".join(one.missing) + ". Nothing was sent.", {"missing_connections": one.missing})
    writes, created = apply.run_plan(one, target_client=target_client, target_uid=target_uid,
                                     source_client=source_client, source_uid=source_uid)
    details = {"calls": [c.line for c in one.calls][:200], "writes": writes}
    if one.unknown:
        details["unknown_principals"] = one.unknown
        raise _Refused("Not on this portal, so not granted (map them by hand): " + ", ".join(one.unknown) + ".",
                       details)
    return writes, created or target_uid, details


def _publish_step(client, source, target, target_uid, wrote) -> tuple[int, str, dict]:
    status = client.dataset_status(target_uid)
    if not status.is_terminal:  # an earlier attempt's publish is running: watch it, do not send again
        return 0, target_uid, {"publish_sent": True, "target_uid": target_uid}
    one = plan.plan_publish(source, target, wrote=wrote)
    if not one.calls:
        return 0, target_uid, {"calls": [], "writes": 0, "note": " ".join(one.notes)}
    client.dataset_publish(target_uid)
    answer_date = client.last_answer_clock().date
    return 1, target_uid, {"publish_sent": True, "target_uid": target_uid, "writes": 1,
                           "publish_date": answer_date.isoformat() if answer_date else ""}


class _Refused(Exception):
    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.details = details or {}


def run_chain(items: list, step, *, label=None) -> dict[int, ItemResult]:
    """The one chain runner of every promote kind (datasets, pages): the items of one target, in order.

    `step(part, wrote)` runs one part and returns (writes, details); it raises a PortalError or _Refused when the
    target refuses it. The first refusal stops the chain there with the portal's message (later steps say "Not
    run"; earlier ones stay as they are); temporary failures (429, 5xx, timeouts) go back to the engine, which
    retries the chunk — the steps already done then plan nothing. `wrote` tells a step whether an earlier one
    changed the target (a publish step publishes again after a change)."""
    label = label or _part_label
    results: dict[int, ItemResult] = {}
    stopped, wrote = "", False
    for item in items:
        part = item.payload.get("part", "")
        if stopped:
            results[item.pk] = ItemResult(False, f"Not run: the “{stopped}” step did not succeed on this portal.")
            continue
        try:
            writes, details = step(part, wrote)
        except (PortalRateLimited, PortalUnavailable):
            raise  # temporary: the engine gives the chunk back and retries it; done steps will plan nothing
        except (PortalError, _Refused) as exc:
            stopped = label(part)
            results[item.pk] = ItemResult(False, f"{stopped}: {exc}", getattr(exc, "details", {}) or {})
            continue
        wrote = wrote or (writes > 0 and part != "publication")
        if details.get("publish_sent"):
            message = "Publish sent; watching until the dataset is idle."
        elif writes:
            message = f"{writes} change{'s' if writes != 1 else ''} written."
        else:
            message = details.get("note") or "Already the same: nothing written."
        results[item.pk] = ItemResult(True, message, details)
    return results


def _source_or_refuse(job, items) -> tuple[Connection | None, dict[int, ItemResult]]:
    source = Connection.objects.get(pk=job.params["source_connection"])
    if has_role(job.started_by, source, OPERATE):
        return source, {}
    reason = f"Refused: the person who started this job no longer has the operator role on {source.name}."
    return None, {item.pk: ItemResult(False, reason) for item in items}


def run_steps(*, target_client, items: list) -> dict[int, ItemResult]:
    """The worker side of one target's dataset chain (called by the engine with the chunk's items, in order)."""
    job = items[0].job
    params = job.params
    source, refused = _source_or_refuse(job, items)
    if source is None:
        return refused
    source_client = client_for(source)
    dataset_id = params["dataset_id"]
    state = {"target_uid": target_uid_for(client=target_client, dataset_id=dataset_id,
                                          chosen_uid=params.get("target_uids", {}).get(str(items[0].connection_id),
                                                                                       ""))}
    before = source_client.dataset_get(params["source_uid"]).updated_at

    def step(part, wrote):
        writes, state["target_uid"], details = _step(
            part, source_client=source_client, target_client=target_client, source_uid=params["source_uid"],
            target_uid=state["target_uid"], dataset_id=dataset_id, wrote=wrote)
        return writes, {**details, "target_uid": state["target_uid"]}

    results = run_chain(items, step)
    after = source_client.dataset_get(params["source_uid"]).updated_at
    if after != before:
        _say_source_changed(items, results, "dataset")
    return results


def _say_source_changed(items, results: dict[int, ItemResult], noun: str) -> None:
    """The source changed while its promote ran (someone edited it): what reached the target may be a mix of
    before and after, so the last step of the chain says so (the job's result, the page's notification)."""
    last = items[-1].pk
    note = f" The source {noun} changed during the promote: compare again."
    results[last] = ItemResult(results[last].ok, results[last].message + note,
                               {**results[last].details, "source_changed": True})


def _part_label(part: str) -> str:
    return PART_LABELS.get(part, part)


def page_promote_start(*, actor, source: Connection, kind: str, slug: str, targets, request=None):
    """One `promote.page` job: a step per part and per target (operator on the source, admin on every target)."""
    from portaladmin.jobs.services import job_create
    from portaladmin.promote.pages import PAGE_PART_LABELS, page_parts

    if not has_role(actor, source, OPERATE):
        raise PermissionDenied(f"Promoting needs the operator role on {source.name}.")
    steps = page_parts(kind)
    items = {conn: [{"target": f"{kind}:{slug} · {PAGE_PART_LABELS[p].lower()}", "label": PAGE_PART_LABELS[p],
                     "payload": {"part": p}} for p in steps] for conn in targets}
    params = {"source_connection": source.pk, "source": source.slug, "page_kind": kind, "slug": slug,
              "parts": steps}
    names = ", ".join(conn.name for conn in targets)
    noun = "studio page" if kind == "studio" else "code editor page"
    return job_create(kind=PAGE_KIND, actor=actor, targets=items, params=params, request=request,
                      title=f"Promote {noun} {slug} from {source.name} to {names}")


def run_page_steps(*, target_client, items: list) -> dict[int, ItemResult]:
    """The worker side of one target's page chain: the same chain runner as datasets, one page part per step."""
    from portaladmin.promote.pages import PAGE_PART_LABELS, PageMissing, page_promote, page_version

    job = items[0].job
    source, refused = _source_or_refuse(job, items)
    if source is None:
        return refused
    source_client = client_for(source)
    kind, slug = job.params["page_kind"], job.params["slug"]
    before = page_version(source_client, kind, slug)

    def step(part, wrote):
        try:
            done = page_promote(kind=kind, slug=slug, source_client=source_client,
                                target_client=target_client, parts=[part], wrote=wrote)
        except (ValueError, PageMissing) as exc:
            raise _Refused(str(exc)) from exc
        details = {"calls": done.calls[:200], "writes": len(done.calls)}
        if done.unknown:  # the known principals are granted; the step fails and says who was not
            details["unknown_principals"] = done.unknown
            raise _Refused("Not on this portal, so not granted (map them by hand): " + ", ".join(done.unknown)
                           + ".", details)
        return len(done.calls), details

    results = run_chain(items, step, label=lambda part: PAGE_PART_LABELS.get(part, part))
    if page_version(source_client, kind, slug) != before:
        _say_source_changed(items, results, "page")
    return results


def page_dry_run(*, user, source: Connection, kind: str, slug: str, source_snapshot: dict,
                 targets: list[Connection]) -> list[dict]:
    """The calls a page promote would send now to each target (the page with the same slug there), sending
    none: one run per target, as the dataset dry run lists them."""
    from portaladmin.promote.pages import page_promote

    runs = []
    for target in targets:
        planned = page_promote(kind=kind, slug=slug, source_client=client_for(source),
                               target_client=client_for(target), dry_run=True, source=source_snapshot)
        runs.append({"target": target, "calls": planned.calls, "unknown": planned.unknown,
                     "exists": planned.target_exists,
                     "can_promote": can_promote(user, source, target)})
    return runs


def can_promote(user, source: Connection, target: Connection) -> bool:
    return has_role(user, source, OPERATE) and has_role(user, target, ADMIN)
