"""Bulk metadata edits: one operation on one template field of many datasets, as one job with an undo.

Operations: set (a value), clear (the API's DELETE), add / remove (an item of a list field), replace (a piece of
text in a text field). The order of steps for one dataset (the `dataset.metadata_edit` job kind):
1. before the first send, the engine keeps the field's current value in the item (`previous`, `had_value`):
   that is what "Undo" restores, and what the new value is computed from — so a repeated send after a crash
   computes the same value (a replace is never applied twice);
2. perform: the new value from `previous` and the operation; nothing is sent when it equals `previous`;
   otherwise one PUT (or one DELETE to clear);
3. success only when a read of the field shows the expected value (the kind's postcondition).
Undo is the same kind with the operation `restore`: per dataset it refuses when the field no longer holds the
value the job set (someone changed it since), and says so.

Across portals: one job for the datasets of several connections; the field is chosen by its template and name
("template:field") and checked against each connection's own definition — datasets of a connection whose
templates lack the field are listed apart in the preview and left out of the job.

"Then publish the metadata" (`params["publish"]`): when the edit job has ended, the datasets it changed that are
published get ONE `dataset.publish_metadata` job (`metadata_bulk_publish_after`, on `jobs.signals.job_finished`),
whose own postcondition (the portal's processing ended idle after the order) is that step's truth; the edit job
keeps its id (`params["publish_step"]`) and shows it, or why there was none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portaladmin.jobs.registry import JobKind, RemoteView, register
from portaladmin.portals.client.errors import PortalConflict, PortalNotFound

KIND = "dataset.metadata_edit"
OPERATIONS = {"set": "Set", "clear": "Clear", "add": "Add to the list", "remove": "Remove from the list",
              "replace": "Find and replace in the text"}
MISSING = object()


class BulkInputError(ValueError):
    """An operation that cannot apply to this field (the message is for the person)."""


def apply_operation(payload: dict, current: Any) -> Any:
    """The field's new value (None: no value) after `payload`'s operation on `current`. Pure."""
    op, value = payload.get("op"), payload.get("value")
    if op == "set":
        return value
    if op == "clear":
        return None
    if op == "restore":
        return value if payload.get("had_value") else None
    if op in ("add", "remove"):
        if current is not None and not (isinstance(current, list) and all(isinstance(v, str) for v in current)):
            raise BulkInputError("This field does not hold a list of text items.")
        if op == "remove" and current is None:
            return None
        items = list(current or [])
        if op == "add":
            return items if value in items else [*items, value]
        return [v for v in items if v != value]
    if op == "replace":
        if current is None:
            return None
        if not isinstance(current, str):
            raise BulkInputError("This field does not hold text.")
        return current.replace(payload.get("find", ""), value or "")
    raise BulkInputError(f"Unknown operation {op!r}.")


def _read(client, uid: str, template: str, field: str) -> Any:
    try:
        return client.metadata_get(uid, template, field).value
    except PortalNotFound:
        # the field has no value, or the dataset is gone: tell them apart (a gone dataset is a failure)
        client.dataset_get(uid)
        return None


@dataclass
class PreviewRow:
    uid: str
    label: str
    old: Any
    new: Any
    status: str  # "change" | "same" | "missing" (no such field in the template) | "error"
    message: str = ""


@register
class DatasetMetadataEdit(JobKind):
    name = KIND
    label = "Edit metadata of"
    audit_action = "dataset.metadata.bulk"
    target_noun = "dataset"
    pollable = True  # the postcondition is read back from the portal
    race_safe_idle = False  # there is no busy state: a read after the write shows the write
    idempotent = True  # the new value comes from the value kept before the first send

    def before_send(self, client, items: list) -> dict[int, dict]:
        kept = {}
        for item in items:
            if "previous" in item.details:
                continue  # a resend: the value before the FIRST send stays the reference
            p = item.payload
            current = _read(client, item.target, p["template"], p["field"])
            kept[item.pk] = {"previous": current, "had_value": current is not None}
        return kept

    def perform(self, client, item):
        p = item.payload
        previous = item.details.get("previous")
        if p.get("op") == "restore":
            now = _read(client, item.target, p["template"], p["field"])
            if now != p.get("expect"):
                raise PortalConflict(f"not restored: the value was changed on the portal since the edit (it is now "
                                     f"{_short(now)}); nothing was sent.")
        try:
            new = apply_operation(p, previous)
        except BulkInputError as exc:
            raise PortalConflict(str(exc)) from None
        if new == previous:
            return {"message": "Already so on the portal: nothing sent.", "details": {"expected": new}}
        if new is None:
            try:
                client.metadata_delete(item.target, p["template"], p["field"])
            except PortalNotFound:
                client.dataset_get(item.target)  # gone dataset: PortalNotFound; else the value was already absent
        else:
            client.metadata_update(item.target, p["template"], p["field"], value=new)
        return {"details": {"expected": new}}

    def read_remote(self, client, item) -> RemoteView:
        p = item.payload
        value = _read(client, item.target, p["template"], p["field"])
        return RemoteView(state="saved", terminal=True, facts={"value": value},
                          details={"now": value})

    def postcondition(self, item, view: RemoteView) -> bool:
        return view.facts.get("value") == item.details.get("expected", MISSING)

    def failure_message(self, item, view: RemoteView) -> str:
        return (f"The portal holds {_short(view.facts.get('value'))} instead of "
                f"{_short(item.details.get('expected'))}.")

    def describe(self, count: int) -> str:
        return f"Edit metadata of {count} dataset{'s' if count != 1 else ''}"


def _short(value: Any) -> str:
    text = "no value" if value is None else repr(value)
    return text if len(text) <= 120 else text[:117] + "…"


# ---------------------------------------------------------------------------------------------- services

def bulk_payload(*, template: str, definition, op: str, value: str, find: str = "") -> dict:
    """The job item payload for an operation typed in the form, checked against the field's definition (a
    MetadataTemplateField of `template`); BulkInputError with a message otherwise."""
    from portaladmin.datasets.metadata_form import KINDS, parse

    kind = KINDS.get(definition.type)
    if kind is None:
        raise BulkInputError(f"Fields of type {definition.type} cannot be edited in bulk.")
    payload = {"template": template, "field": definition.name, "op": op}
    if op == "clear":
        if definition.required:
            raise BulkInputError("This field is mandatory in its template: it cannot be cleared.")
        return payload
    if op in ("add", "remove"):
        if kind not in ("list", "enumlist"):
            raise BulkInputError("Add and remove apply to list fields only.")
        if op == "add" and kind == "enumlist" and definition.choices and value not in definition.choices:
            raise BulkInputError(f"{value!r} is not one of the allowed values.")
        return {**payload, "value": value}
    if op == "replace":
        if kind not in ("text", "long"):
            raise BulkInputError("Find and replace applies to text fields only.")
        if not find:
            raise BulkInputError("Say what to find.")
        return {**payload, "find": find, "value": value}
    if op == "set":
        shown = [line for line in value.replace("\r\n", "\n").split("\n")] if kind in ("list", "enumlist") else value
        if kind in ("list", "enumlist") and shown and shown[-1] == "":
            shown = shown[:-1]  # the textarea's trailing newline, not an item
        try:
            return {**payload, "value": parse(kind, shown, loaded=None, choices=definition.choices)}
        except ValueError as exc:
            raise BulkInputError(str(exc)) from None
    raise BulkInputError(f"Unknown operation {op!r}.")


@dataclass
class Plan:
    """What one operation means on each connection: its payload, or why it cannot apply there."""

    payloads: dict  # Connection → item payload
    missing: dict  # Connection → message (no such field in its templates)
    refused: dict  # Connection → message (the field exists but the operation does not fit it)


def bulk_field_choices(templates: dict) -> tuple[list[tuple[str, str]], dict[str, dict]]:
    """The fields offered for a bulk edit over {connection: [MetadataTemplate]}: ("template:field", label) in
    the first connection's order, and for each key {connection: (template name, field definition)}."""
    from portaladmin.datasets.metadata_form import KINDS

    per_key: dict[str, dict] = {}
    titles: dict[str, str] = {}  # a person reads "Standard metadata", not the API's "default"
    for connection, defs in templates.items():
        for t in defs:
            if t.is_active is False:
                continue
            titles.setdefault(t.name, t.title or t.name)
            for f in t.fields:
                if not f.is_hidden and f.type in KINDS:
                    per_key.setdefault(f"{t.name}:{f.name}", {})[connection] = (t.name, f)
    several = len(templates) > 1
    choices = []
    for key, found in per_key.items():
        template, f = next(iter(found.values()))
        where = f" — on {len(found)} of {len(templates)} portals" if several and len(found) < len(templates) else ""
        choices.append((key, f"{titles[template]} · {f.label or f.name} ({f.type}){where}"))
    return choices, per_key


def metadata_bulk_plan(*, connections, found: dict, op: str, value: str, find: str = "") -> Plan:
    """The payload per connection for the field chosen (`found`: {connection: (template, definition)})."""
    plan = Plan({}, {}, {})
    for connection in connections:
        if connection not in found:
            plan.missing[connection] = "This portal's templates have no such field: not changed."
            continue
        template, definition = found[connection]
        try:
            plan.payloads[connection] = bulk_payload(template=template, definition=definition, op=op, value=value,
                                                     find=find)
        except BulkInputError as exc:
            plan.refused[connection] = str(exc)
    return plan


def metadata_bulk_preview(*, connection, targets: list[dict], payload: dict, limit: int = 200) -> list[PreviewRow]:
    """Old → new for each dataset (the first `limit`), read from the portal now; nothing is written."""
    from portaladmin.portals.client import client_for
    from portaladmin.portals.client.errors import PortalError

    client = client_for(connection)
    rows = []
    for target in targets[:limit]:
        uid, label = target["target"], target.get("label") or target["target"]
        try:
            old = _read(client, uid, payload["template"], payload["field"])
        except PortalNotFound:
            rows.append(PreviewRow(uid, label, None, None, "error", "This dataset no longer exists."))
            continue
        except PortalError as exc:
            rows.append(PreviewRow(uid, label, None, None, "error", str(exc)))
            continue
        try:
            new = apply_operation(payload, old)
        except BulkInputError as exc:
            rows.append(PreviewRow(uid, label, old, None, "error", str(exc)))
            continue
        rows.append(PreviewRow(uid, label, old, new, "same" if new == old else "change"))
    return rows


def metadata_bulk_preview_across(*, targets: dict, plan: Plan, limit: int = 200) -> list[tuple[object, PreviewRow]]:
    """(connection, row) for every dataset: read and computed where the operation applies (the first `limit`
    read from the portals), listed apart where the field is missing or the operation does not fit."""
    rows: list[tuple[object, PreviewRow]] = []
    budget = limit
    for connection, items in targets.items():
        reason = plan.missing.get(connection) or plan.refused.get(connection)
        if reason:
            status = "missing" if connection in plan.missing else "error"
            rows += [(connection, PreviewRow(t["target"], t.get("label") or t["target"], None, None, status, reason))
                     for t in items]
            continue
        read = metadata_bulk_preview(connection=connection, targets=items, payload=plan.payloads[connection],
                                     limit=max(budget, 0))
        budget -= len(read)
        rows += [(connection, row) for row in read]
    return rows


def metadata_bulk_start(*, connection=None, actor, targets, payload: dict | None = None, plan: Plan | None = None,
                        publish: bool = False, request=None):
    """ONE job over the datasets where the operation applies. Either `connection` + `targets` (a list) +
    `payload`, or `targets` {connection: [...]} + `plan`."""
    from portaladmin.jobs.services import job_create

    if plan is None:
        targets, plan = {connection: targets}, Plan({connection: payload}, {}, {})
    by_conn = {c: [{**t, "payload": plan.payloads[c]} for t in items] for c, items in targets.items()
               if c in plan.payloads and items}
    if not by_conn:
        raise BulkInputError("None of these datasets has this field: nothing to do.")
    first = next(iter(plan.payloads.values()))
    count = sum(len(v) for v in by_conn.values())
    described = f"{OPERATIONS[first['op']].lower()} {first['template']}.{first['field']}"
    params = {k: v for k, v in first.items()}
    if publish:
        params["publish"] = True
    return job_create(kind=KIND, actor=actor, targets=by_conn, params=params, request=request,
                      title=f"Metadata: {described} on {count} dataset{'s' if count != 1 else ''}"
                            + (" (then publish metadata)" if publish else ""))


def metadata_bulk_publish_after(*, job) -> None:
    """After an edit job asked for it: ONE publish-metadata job for the published datasets it changed. Runs once
    per job (the job row is locked and marked); what happened is kept in the edit job's params."""
    from django.core.exceptions import PermissionDenied
    from django.db import transaction

    from portaladmin.datasets.models import DatasetSnapshot
    from portaladmin.jobs.models import ItemStatus, Job
    from portaladmin.jobs.services import dataset_action_start

    if job.kind != KIND or not job.params.get("publish"):
        return
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if (job.params.get("publish_step") or {}).get("of_job") == job.pk:
            return  # done already (a retry job copies its parent's params: the step names its own job)
        changed: dict = {}
        for item in job.items.filter(status=ItemStatus.SUCCEEDED).select_related("connection"):
            d = item.details
            if d.get("expected", MISSING) != d.get("previous", MISSING):
                changed.setdefault(item.connection, []).append(item.target)
        published: dict = {}
        for connection, uids in changed.items():
            rows = DatasetSnapshot.objects.filter(connection=connection, uid__in=uids, is_published=True)
            published[connection] = [{"target": r.uid, "label": r.dataset_id} for r in rows]
        published = {c: v for c, v in published.items() if v}
        step: dict = {"of_job": job.pk, "unpublished": sum(len(v) for v in changed.values())
                      - sum(len(v) for v in published.values())}
        if not published:
            step["note"] = "No dataset this job changed is published: there was no metadata to publish."
        elif job.started_by is None:
            step["note"] = "Metadata not published: the person who started this job no longer has an account."
        else:
            try:
                follow = dataset_action_start(actor=job.started_by, action="publish_metadata", targets=published)
            except PermissionDenied as exc:
                step["note"] = f"Metadata not published: {exc}"
            else:
                step["publish_job"] = follow.pk
        job.params = {**job.params, "publish_step": step}
        job.save(update_fields=["params"])


def metadata_bulk_undo(*, job, actor, request=None):
    """A job restoring, per dataset, the value kept before `job` changed it (only where the edit succeeded and
    actually changed something); each item refuses if the value changed since."""
    from portaladmin.jobs.models import ItemStatus
    from portaladmin.jobs.services import job_create

    if job.kind != KIND:
        raise BulkInputError("Only a metadata edit can be undone.")
    targets: dict = {}
    for item in job.items.filter(status=ItemStatus.SUCCEEDED).select_related("connection").order_by("id"):
        d, p = item.details, item.payload
        if "previous" not in d or d.get("expected", MISSING) == d.get("previous"):
            continue
        targets.setdefault(item.connection, []).append({"target": item.target, "label": item.target_label, "payload": {
            "template": p["template"], "field": p["field"], "op": "restore", "value": d["previous"],
            "had_value": d.get("had_value", d["previous"] is not None), "expect": d.get("expected")}})
    if not targets:
        raise BulkInputError("Nothing to undo: no dataset was changed by this job.")
    params = {"op": "restore", "undo_of": job.pk}
    if job.params.get("publish"):  # what was published is restored on the public portal too
        params["publish"] = True
    return job_create(kind=KIND, actor=actor, targets=targets, request=request, params=params,
                      title=f"Undo: {job.title}"[:200])
