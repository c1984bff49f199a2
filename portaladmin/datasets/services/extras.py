"""Processors from the catalogue (create, edit, reorder), the schema view and its edits, schedule edits,
alternative exports, feedback, images. Inputs arrive validated (forms); each write is audited.

Nothing half-done: the API has no transaction, so a step made of several writes (a reorder is two PUTs, a schema
edit up to four field configurations) undoes what it already wrote when a later write is refused, then raises the
refusal. An undo that itself fails is logged and said in the message (`PartlyDone`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.db.models import Sum
from django.utils import timezone

from portaladmin.audit.services import audit_remote_write
from portaladmin.datasets.models import DatasetSnapshot, FeedbackCount
from portaladmin.datasets.processor_catalogue import ProcessorType, catalogue_from
from portaladmin.datasets.remote import display_value
from portaladmin.portals.client import client_for
from portaladmin.portals.client.errors import PortalError, PortalNotFound
from portaladmin.portals.models import Connection

logger = logging.getLogger(__name__)
RESERVED = {"uid", "type", "label"}


class PartlyDone(PortalError):
    """A multi-write step failed and its undo failed too: what is left on the portal is said in the message."""


def _audit(action: str, *, connection: Connection, actor, uid: str, request=None, extra: dict | None = None):
    return audit_remote_write(action=action, actor=actor, connection=connection, target=uid, request=request,
                              extra=extra)


# ---------------------------------------------------------------------------------------------- processors

def processor_catalogue_read(*, connection: Connection) -> dict[str, ProcessorType]:
    # The spec types /processors/ items as DatasetProcessor (free additional properties): read them whole.
    return catalogue_from([dict(p.raw or {}) for p in client_for(connection).processor_available()])


def processors_read(*, connection: Connection, uid: str) -> list[dict]:
    """The dataset's processors in the order they apply: uid, type, label, params (everything else)."""
    out = []
    for p in client_for(connection).processor_list(uid):
        raw = dict(p.raw or {})
        params = {k: v for k, v in raw.items() if k not in RESERVED}
        out.append({"uid": p.uid, "type": p.type, "label": p.label, "raw": raw,
                    "summary": ", ".join(f"{k}: {display_value(v)}" for k, v in params.items())})
    return out


def processor_read(*, connection: Connection, uid: str, processor_uid: str) -> dict:
    p = client_for(connection).processor_get(uid, processor_uid)
    raw = dict(p.raw or {})
    return {"uid": p.uid or processor_uid, "type": p.type, "label": p.label, "raw": raw}


def processor_save(*, connection: Connection, actor, uid: str, body: dict, processor_uid: str | None = None,
                   request=None):
    client = client_for(connection)
    if processor_uid is None:
        with _audit("dataset.processor.create", connection=connection, actor=actor, uid=uid, request=request,
                    extra={"type": body["type"]}):
            return client.processor_create(uid, body)
    with _audit("dataset.processor.update", connection=connection, actor=actor, uid=uid, request=request,
                extra={"processor": processor_uid, "type": body["type"]}):
        return client.processor_update(uid, processor_uid, body)


def processor_move(*, connection: Connection, actor, uid: str, processor_uid: str, direction: str,
                   request=None) -> bool:
    """Move a processor one step up or down. The API appends and updates in place but has no order operation,
    so the contents of the two neighbours are exchanged (two PUTs; each uid keeps its position). Returns False
    when there is nowhere to move."""
    client = client_for(connection)
    items = [dict(p.raw or {}) for p in client.processor_list(uid)]
    index = next((i for i, p in enumerate(items) if p.get("uid") == processor_uid), None)
    if index is None:
        raise PortalNotFound("That processor no longer exists.", status=404)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(items):
        return False
    a, b = items[index], items[other]

    def content(p: dict) -> dict:
        return {k: v for k, v in p.items() if k != "uid"}

    with _audit("dataset.processor.move", connection=connection, actor=actor, uid=uid, request=request,
                extra={"processor": processor_uid, "direction": direction}):
        client.processor_update(uid, b["uid"], content(a))
        try:
            client.processor_update(uid, a["uid"], content(b))
        except PortalError:
            _undo(lambda: client.processor_update(uid, b["uid"], content(b)),
                  "the two processors may now hold the same step; check the list")
            raise
    # Read back: a portal that merged a PUT into the old processor (instead of replacing it) would leave
    # parameters of the other step behind; say so rather than report a clean move.
    after = {p.uid: dict(p.raw or {}) for p in client.processor_list(uid)}
    if content(after.get(b["uid"], {})) != content(a) or content(after.get(a["uid"], {})) != content(b):
        raise PartlyDone("The portal kept parameters of the other step after the move: check both processors.")
    return True


def _undo(step, left: str) -> None:
    try:
        step()
    except PortalError as exc:
        logger.warning("undo failed: %s", exc)
        raise PartlyDone(f"The portal refused a step and undoing the first one failed too: {left}.") from exc


# ---------------------------------------------------------------------------------------------- schema

FIELD_TYPES = ["text", "int", "double", "geo_point_2d", "geo_shape", "date", "datetime", "file"]
ANNOTATIONS = ["id", "timeserie_precision", "unit", "decimals", "sortable", "multivalued", "hierarchical"]


@dataclass
class SchemaField:
    name: str
    label: str = ""
    type: str = "text"
    annotations: list[str] = field(default_factory=list)
    description: str = ""
    configs: list[dict] = field(default_factory=list)  # the field configurations naming this field


def schema_read(*, connection: Connection, uid: str) -> dict:
    """The dataset's fields as the preview of its first resource reports them (after its processors and field
    configurations), each with the field configurations that name it; and the first records.

    GUESS: a portal's resource preview shows the processed fields (the back office's does; the sandbox does).
    A preview without processing still gives the extracted fields; their configurations are listed either way."""
    client = client_for(connection)
    configs = [dict(c.raw or {}) for c in client.field_config_list(uid)]
    resources = client.resource_list(uid, limit=1)
    fields: list[SchemaField] = []
    rows: list[list[str]] = []
    if resources.results:
        preview = client.resource_preview(uid, resources.results[0].uid)
        for f in preview.fields:
            if not isinstance(f, dict) or not f.get("name"):
                continue
            ann = f.get("annotations") or []
            names = [a.get("name") if isinstance(a, dict) else str(a) for a in ann] if isinstance(ann, list) else []
            fields.append(SchemaField(name=str(f["name"]), label=str(f.get("label") or f["name"]),
                                      type=str(f.get("type") or "text"), annotations=[n for n in names if n],
                                      description=str(f.get("description") or "")))
        names = [f.name for f in fields]
        for record in preview.records[:10]:
            values = record.get("fields", record) if isinstance(record, dict) else {}
            rows.append([display_value((values or {}).get(n)) for n in names])
    renamed = {c.get("to_name"): c.get("from_name") for c in configs if c.get("type") == "rename"}
    for f in fields:  # configurations name a field by its current name or the one it had before a rename
        names = {f.name, renamed.get(f.name)} - {None}
        f.configs = [c for c in configs if names & {c.get("field"), c.get("to_name"), c.get("from_name")}]
    return {"schema": fields, "schema_rows": rows, "field_configs_all": configs, "has_resource": bool(fields)}


def schema_field_save(*, connection: Connection, actor, uid: str, field_name: str, current: SchemaField,
                      name: str, label: str, type: str, description: str, annotations: list[str],
                      request=None) -> list[str]:
    """Turn one field's edit into field configurations: rename (name and label), type, description, one annotate
    per added annotation. An existing configuration of the same kind on this field is updated, else one is
    appended. Returns what changed; undoes its own writes if a later one is refused."""
    client = client_for(connection)
    by_kind = {c.get("type"): c for c in current.configs}
    wanted: list[tuple[str, dict]] = []
    if name != field_name or label != current.label:
        wanted.append(("rename", {"from_name": by_kind.get("rename", {}).get("from_name", field_name),
                                  "to_name": name, "field_label": label}))
    if type != current.type:
        wanted.append(("type", {"field": field_name, "type_param": type}))
    if description != current.description:
        wanted.append(("description", {"field": field_name, "description": description}))
    for annotation in [a for a in annotations if a not in current.annotations]:
        wanted.append(("annotate", {"field": field_name, "annotation": annotation, "args": []}))
    done: list = []  # (kind, uid, previous body or None)
    labels = {"rename": f"Rename {field_name}", "type": f"Type of {field_name}",
              "description": f"Description of {field_name}", "annotate": f"Annotate {field_name}"}
    with _audit("dataset.field.schema", connection=connection, actor=actor, uid=uid, request=request,
                extra={"field": field_name, "changes": [k for k, _ in wanted]}):
        try:
            for kind, params in wanted:
                body = {"type": kind, "label": labels[kind], **params}
                existing = by_kind.get(kind) if kind != "annotate" else None
                if existing:
                    client.field_config_update(uid, existing["uid"], body)
                    done.append((kind, existing["uid"], {k: v for k, v in existing.items() if k != "uid"}))
                else:
                    created = client.field_config_create(uid, body)
                    done.append((kind, created.uid, None))
        except PortalError:
            for _kind, config_uid, previous in reversed(done):
                if previous is None:
                    _undo(lambda u=config_uid: client.field_config_delete(uid, u),
                          "some field configurations of this edit were kept")
                else:
                    _undo(lambda u=config_uid, p=previous: client.field_config_update(uid, u, p),
                          "some field configurations of this edit were kept")
            raise
    return [k for k, _ in wanted]


# ---------------------------------------------------------------------------------------------- schedules

def schedule_update(*, connection: Connection, actor, uid: str, schedule_uid: str, cron: str, request=None):
    with _audit("dataset.schedule.update", connection=connection, actor=actor, uid=uid, request=request,
                extra={"schedule": schedule_uid, "cron": cron}):
        return client_for(connection).dataset_schedule_update(uid, schedule_uid, cron_schedule=cron)


def schedule_read(*, connection: Connection, uid: str, schedule_uid: str):
    return client_for(connection).dataset_schedule_get(uid, schedule_uid)


# ---------------------------------------------------------------------------------------------- exports

def exports_read(*, connection: Connection, uid: str) -> list:
    return list(client_for(connection).alternative_export_list(uid, limit=100))


def export_read(*, connection: Connection, uid: str, export_uid: str):
    return client_for(connection).alternative_export_get(uid, export_uid)


def export_create(*, connection: Connection, actor, uid: str, file: BinaryIO, filename: str, content_type: str,
                  title: str, description: str = "", request=None):
    with _audit("dataset.export.create", connection=connection, actor=actor, uid=uid, request=request,
                extra={"filename": filename}):
        return client_for(connection).alternative_export_create(uid, file, filename=filename, title=title,
                                                                description=description, content_type=content_type)


def export_update(*, connection: Connection, actor, uid: str, export_uid: str, title: str, description: str,
                  type: str = "uploaded_file", request=None):
    with _audit("dataset.export.update", connection=connection, actor=actor, uid=uid, request=request,
                extra={"export": export_uid}):
        return client_for(connection).alternative_export_update(uid, export_uid, title=title,
                                                                description=description, type=type)


def export_delete(*, connection: Connection, actor, uid: str, export_uid: str, request=None) -> None:
    with _audit("dataset.export.delete", connection=connection, actor=actor, uid=uid, request=request,
                extra={"export": export_uid}):
        client_for(connection).alternative_export_delete(uid, export_uid)


def export_download(*, connection: Connection, uid: str, export_uid: str) -> Iterator[bytes]:
    return client_for(connection).alternative_export_download(uid, export_uid)


# ---------------------------------------------------------------------------------------------- feedback

def feedback_read(*, connection: Connection, uid: str, archived: bool = False) -> list:
    """A dataset's feedback (open or archived, newest first); the open count is noted for the overview."""
    page = client_for(connection).feedback_list(uid, is_archived=archived, sort="-created_at")
    if not archived:
        feedback_count_note(connection=connection, uid=uid, count=len(page.results))
    return list(page)


def feedback_one(*, connection: Connection, uid: str, feedback_uid: str):
    return client_for(connection).feedback_get(uid, feedback_uid)


def feedback_archive(*, connection: Connection, actor, uid: str, feedback_uid: str, request=None):
    with _audit("dataset.feedback.archive", connection=connection, actor=actor, uid=uid, request=request,
                extra={"feedback": feedback_uid}):
        result = client_for(connection).feedback_archive(uid, feedback_uid)
    row = FeedbackCount.objects.filter(connection=connection, uid=uid).first()
    if row is not None and row.open_count:
        FeedbackCount.objects.filter(pk=row.pk).update(open_count=row.open_count - 1)
    return result


def feedback_count_note(*, connection: Connection, uid: str, count: int) -> None:
    snapshot = DatasetSnapshot.objects.filter(connection=connection, uid=uid).values_list("dataset_id",
                                                                                         flat=True).first()
    FeedbackCount.objects.update_or_create(connection=connection, uid=uid,
                                           defaults={"open_count": count, "checked_at": timezone.now(),
                                                     "dataset_id": snapshot or ""})


def feedback_count_scan(*, connection: Connection) -> int:
    """Count every dataset's open feedback (one `limit=0` request per dataset of the snapshot). Stops at the
    first failure that is not a vanished dataset; what was counted so far is kept."""
    client = client_for(connection)
    counted = 0
    for uid in DatasetSnapshot.objects.filter(connection=connection).order_by("id").values_list("uid", flat=True):
        try:
            count = client.feedback_open_count(uid)
        except PortalNotFound:
            FeedbackCount.objects.filter(connection=connection, uid=uid).delete()
            continue
        feedback_count_note(connection=connection, uid=uid, count=count)
        counted += 1
    return counted


def feedback_count_request(*, connection: Connection) -> None:
    from django.db import transaction

    from portaladmin.datasets.tasks import feedback_count_scan as task

    transaction.on_commit(lambda: task.delay(connection.pk))


def feedback_counted(*, connection: Connection):
    """When the oldest and newest counts were made (None, None before any)."""
    from django.db.models import Max, Min

    row = FeedbackCount.objects.filter(connection=connection).aggregate(oldest=Min("checked_at"),
                                                                          newest=Max("checked_at"))
    return row


def feedback_counts(*, connections) -> dict[int, dict]:
    """{connection id: {"open": n, "datasets": n with open feedback, "checked": oldest count}} — one query."""
    out: dict[int, dict] = {}
    rows = (FeedbackCount.objects.filter(connection__in=list(connections)).values("connection_id")
            .annotate(open=Sum("open_count")))
    for row in rows:
        out[row["connection_id"]] = {"open": row["open"] or 0}
    return out


def feedback_across(*, connection: Connection) -> list[FeedbackCount]:
    return list(FeedbackCount.objects.filter(connection=connection, open_count__gt=0).order_by("-open_count",
                                                                                              "dataset_id"))


ACROSS_MAX_DATASETS = 20  # one request each: the page reads at most this many datasets' feedback


@dataclass
class FeedbackGroup:
    count: FeedbackCount
    items: list = field(default_factory=list)
    error: str = ""


def feedback_items_across(*, connection: Connection, rows: list[FeedbackCount]) -> list[FeedbackGroup]:
    """The open feedback itself, for the datasets the counts say have some (most first, at most
    ACROSS_MAX_DATASETS requests). A dataset that fails is said so and the others still shown; its count is
    corrected on the way."""
    client = client_for(connection)
    groups = []
    for row in rows[:ACROSS_MAX_DATASETS]:
        group = FeedbackGroup(count=row)
        try:
            group.items = list(client.feedback_list(row.uid, is_archived=False, sort="-created_at"))
            if len(group.items) != row.open_count:
                feedback_count_note(connection=connection, uid=row.uid, count=len(group.items))
        except PortalNotFound:
            group.error = "This dataset no longer exists on the portal."
        except PortalError as exc:
            group.error = f"Could not be read: {exc.message}"
        groups.append(group)
    return groups


# ---------------------------------------------------------------------------------------------- attachments

def attachment_read(*, connection: Connection, uid: str, attachment_uid: str):
    return client_for(connection).attachment_get(uid, attachment_uid)


# ---------------------------------------------------------------------------------------------- images

def images_read(*, connection: Connection) -> list:
    return list(client_for(connection).asset_list(limit=100))


def image_upload(*, connection: Connection, actor, file: BinaryIO, filename: str, content_type: str,
                 request=None):
    with audit_remote_write(action="portal.image.upload", actor=actor, connection=connection, target=filename,
                            request=request, extra={"type": content_type}):
        return client_for(connection).asset_upload(file, filename=filename, content_type=content_type)
