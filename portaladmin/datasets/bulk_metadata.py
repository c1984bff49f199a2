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


def metadata_bulk_start(*, connection, actor, targets: list[dict], payload: dict, request=None):
    from portaladmin.jobs.services import job_create

    described = f"{OPERATIONS[payload['op']].lower()} {payload['template']}.{payload['field']}"
    return job_create(kind=KIND, actor=actor, targets={connection: [{**t, "payload": payload} for t in targets]},
                      params={k: v for k, v in payload.items()}, request=request,
                      title=f"Metadata: {described} on {len(targets)} dataset{'s' if len(targets) != 1 else ''}")


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
    return job_create(kind=KIND, actor=actor, targets=targets, request=request,
                      params={"op": "restore", "undo_of": job.pk}, title=f"Undo: {job.title}"[:200])
