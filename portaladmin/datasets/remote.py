"""Remote reads for the dataset page's tabs (never used by the list view). Each returns client schemas."""

from __future__ import annotations

import json
import re

from croniter import croniter
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator

from portaladmin.core.templatetags.humantime import when_text
from portaladmin.datasets.services import dataset_read
from portaladmin.portals.client import client_for
from portaladmin.portals.client.errors import PortalError
from portaladmin.portals.client.schemas import MetadataTemplate
from portaladmin.portals.models import Connection


def display_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(display_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)[:300]
    if isinstance(value, bool):
        return "yes" if value else "no"
    return Truncator(" ".join(strip_tags(str(value)).split())).chars(300)


def overview_read(*, connection: Connection, uid: str) -> dict:
    dataset, status = dataset_read(connection=connection, uid=uid)
    default = dataset.metadata.get("default") if isinstance(dataset.metadata.get("default"), dict) else {}
    rows = [(name, _metadata_display(dataset.metadata_value("default", name))) for name in default]
    return {"dataset": dataset, "status": status, "default_rows": rows}


ISO_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def _metadata_display(value) -> str:
    """A metadata moment (modified, data_processed …) in words with the exact time, not the raw ISO string the
    portal stores; records previews keep their values as they are (display_value)."""
    if isinstance(value, str) and ISO_MOMENT.match(value):
        return when_text(value)
    return display_value(value)


def metadata_read(*, connection: Connection, uid: str) -> dict:
    """The dataset's values per template, and the portal's template definitions that type the editor. Without
    the definitions (e.g. a key without edit_domain may not read them) the values are shown read-only."""
    client = client_for(connection)
    values = client.metadata_get_all(uid)
    try:
        definitions = metadata_templates_read(connection=connection)
        error = ""
    except PortalError as exc:
        definitions, error = None, str(exc)
    return {"templates": values, "definitions": definitions, "definitions_error": error}


def metadata_templates_read(*, connection: Connection) -> list[MetadataTemplate]:
    """Every metadata template of the portal with its fields (a portal has a handful: one page is enough)."""
    return list(client_for(connection).metadata_template_list(limit=100))


def metadata_template_read(*, connection: Connection, name: str) -> MetadataTemplate:
    return client_for(connection).metadata_template_get(name)


def metadata_suggestions_read(*, connection: Connection, template: str, field: str, query: str) -> list[str]:
    return client_for(connection).metadata_template_field_suggest(template, field, query=query, count=10).values


def resources_read(*, connection: Connection, uid: str) -> dict:
    return {"resources": client_for(connection).resource_list(uid, limit=100)}


def resource_preview_read(*, connection: Connection, uid: str, resource_uid: str) -> dict:
    """The preview and its records as rows of cells in the order of the fields (at most 20)."""
    preview = client_for(connection).resource_preview(uid, resource_uid)
    names = [str(f.get("name", "")) for f in preview.fields if isinstance(f, dict)]
    rows = []
    for record in preview.records[:20]:
        values = record.get("fields", record) if isinstance(record, dict) else {}
        if not isinstance(values, dict):
            values = {}
        rows.append([display_value(values.get(name)) for name in names])
    return {"preview": preview, "preview_rows": rows}


def processing_read(*, connection: Connection, uid: str) -> dict:
    client = client_for(connection)
    processors = [{"uid": p.uid, "type": p.type, "label": p.label,
                   "args_json": json.dumps(p.args or _params(p.raw), ensure_ascii=False, indent=1)}
                  for p in client.processor_list(uid)]
    configs = []
    for c in client.field_config_list(uid):
        params = {k: v for k, v in (c.raw or {}).items() if k not in ("uid", "type", "label")}
        configs.append({"uid": c.uid, "type": c.type, "label": c.label, "field": c.field,
                        "params_json": json.dumps(params, ensure_ascii=False, indent=1)})
    return {"processors": processors, "field_configs": configs}


def _params(raw) -> dict:
    """A processor's parameters: the spec puts them beside type and label (older answers nest them in `args`)."""
    return {k: v for k, v in (raw or {}).items() if k not in ("uid", "type", "label", "args")}


def next_runs(cron: str, count: int = 5) -> list:
    try:
        it = croniter(cron, timezone.now())
        return [it.get_next(type(timezone.now())) for _ in range(count)]
    except (ValueError, KeyError, TypeError):
        return []


def next_runs_in(cron: str, zone: str = "UTC", count: int = 5) -> list:
    """The next runs of `cron` read in the schedule's time zone (dataset schedules carry none in the spec: the
    portal's answer may add `timezone`, as harvester schedules have; UTC otherwise). The harvesters' computation."""
    from zoneinfo import ZoneInfoNotFoundError

    from portaladmin.harvesters.forms import next_runs as runs_in_zone

    try:
        return runs_in_zone(cron, zone or "UTC", count=count)
    except ZoneInfoNotFoundError:
        return runs_in_zone(cron, "UTC", count=count) if croniter.is_valid(cron) else []
    except (ValueError, KeyError, TypeError):
        return []


def schedules_read(*, connection: Connection, uid: str) -> dict:
    page = client_for(connection).dataset_schedule_list(uid, limit=100)
    return {"schedules": [{"schedule": s, "zone": s.timezone or "UTC",
                           "next_runs": next_runs_in(s.cron_schedule, s.timezone or "UTC")} for s in page]}


def versions_read(*, connection: Connection, uid: str) -> dict:
    return {"versions": client_for(connection).version_list(uid, limit=50)}


def attachments_read(*, connection: Connection, uid: str) -> dict:
    return {"attachments": client_for(connection).attachment_list(uid, limit=100)}


def security_read(*, connection: Connection, uid: str) -> dict:
    client = client_for(connection)
    dataset = client.dataset_get(uid)
    rulesets = [*client.dataset_user_ruleset_list(uid, limit=100), *client.dataset_group_ruleset_list(uid, limit=100)]
    security = dataset.default_security or {}
    initial = {"is_restricted": bool(dataset.is_restricted), "is_data_visible": bool(security.get("is_data_visible")),
               "filter_query": security.get("filter_query") or "",
               "visible_fields": ", ".join(security.get("visible_fields") or [])}
    return {"dataset": dataset, "rulesets": rulesets, "security_initial": initial}
