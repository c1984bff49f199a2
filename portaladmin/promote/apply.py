"""Run a plan's calls against the target portal (the only module here that writes to a portal).

An uploaded file is streamed from the source's download into a spooled temporary file (memory up to
SPOOL_BYTES, then disk: never held whole in memory), then streamed into the target's upload — the multipart
upload needs the size before it starts, which a download in flight does not give. The resource is then
created (or updated) to reference the new file.
"""

from __future__ import annotations

import tempfile

from portaladmin.portals.client.errors import PortalNotFound
from portaladmin.promote.plan import Call, Plan

SPOOL_BYTES = 8 * 1024 * 1024


def known_usernames(client, usernames) -> set[str]:
    known = set()
    for name in usernames:
        try:
            client.user_get(name)
            known.add(name)
        except PortalNotFound:
            pass
    return known


def groups_by_title(client) -> dict[str, str]:
    return {group.title or group.uid: group.uid for group in client.group_iter()}


def connections_by_label(client) -> dict[str, list[str]]:
    """{canonical(connection label): [uids]} of the target's datasource connections (see snapshot.connection_label)."""
    from portaladmin.promote.diff import canonical
    from portaladmin.promote.snapshot import connection_label

    found: dict[str, list[str]] = {}
    for conn in client.datasource_connection_iter():
        found.setdefault(canonical(connection_label(conn)), []).append(conn.uid)
    return found


def _resource_body(source_client, target_client, source_uid: str, target_uid: str, call: Call) -> dict:
    body = dict(call.args["body"])
    if call.args.get("source_file_uid"):
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            for chunk in source_client.resource_file_download(source_uid, call.args["source_file_uid"]):
                spool.write(chunk)
            spool.seek(0)
            uploaded = target_client.resource_upload_file(target_uid, spool, filename=call.args["filename"])
        body["datasource"] = {"type": "uploaded_file", "file": {"uid": uploaded.uid}}
    return body


def run_call(call: Call, *, target_client, target_uid: str, source_client=None, source_uid: str = ""):
    """One call of a plan. Returns the created dataset's uid for dataset_create, else None."""
    c, a, uid = target_client, call.args, target_uid
    match call.op:
        case "none":
            return None
        case "dataset_create":
            return c.dataset_create(dataset_id=a["dataset_id"], metadata=a["metadata"],
                                    is_restricted=a["is_restricted"], default_security=a["default_security"]).uid
        case "metadata_update":
            c.metadata_update(uid, a["template"], a["field"], value=a["value"])
        case "metadata_delete":
            c.metadata_delete(uid, a["template"], a["field"])
        case "resource_create":
            c.resource_create(uid, _resource_body(source_client, c, source_uid, uid, call))
        case "resource_update":
            c.resource_update(uid, a["resource_uid"], _resource_body(source_client, c, source_uid, uid, call))
        case "resource_delete":
            c.resource_delete(uid, a["resource_uid"])
        case "processors_create":
            c.processor_create(uid, a["body"])
        case "processors_update":
            c.processor_update(uid, a["item_uid"], a["body"])
        case "processors_delete":
            c.processor_delete(uid, a["item_uid"])
        case "fields_create":
            c.field_config_create(uid, a["body"])
        case "fields_update":
            c.field_config_update(uid, a["item_uid"], a["body"])
        case "fields_delete":
            c.field_config_delete(uid, a["item_uid"])
        case "schedules_create":
            c.dataset_schedule_create(uid, cron_schedule=a["cron"])
        case "schedules_delete":
            c.dataset_schedule_delete(uid, a["item_uid"])
        case "dataset_security":
            dataset = c.dataset_get(uid)
            c.dataset_update(uid, {"dataset_id": dataset.dataset_id, "is_restricted": a["is_restricted"],
                                   "default_security": a["default_security"]})
        case "ruleset_create" | "ruleset_update":
            _ruleset(c, uid, a, create=call.op == "ruleset_create")
        case "ruleset_delete":
            (c.dataset_user_ruleset_delete if a["kind"] == "users" else c.dataset_group_ruleset_delete)(
                uid, a["principal"])
        case "publish":
            c.dataset_publish(uid)
        case _:
            raise ValueError(f"Unknown promote call {call.op!r}")
    return None


def _ruleset(c, uid, a, *, create: bool) -> None:
    extra = {"permissions": a["permissions"], "security": a.get("security")}
    if a["kind"] == "users":
        if create:
            c.dataset_user_ruleset_create(uid, username=a["principal"], **extra)
        else:
            c.dataset_user_ruleset_update(uid, a["principal"], **extra)
    elif create:
        c.dataset_group_ruleset_create(uid, group_uid=a["principal"], **extra)
    else:
        c.dataset_group_ruleset_update(uid, a["principal"], **extra)


def run_plan(plan: Plan, **kwargs) -> tuple[int, str | None]:
    """(writes made, created dataset uid or None). A PortalError stops at the failing call (raised)."""
    writes, created = 0, None
    for call in plan.calls:
        result = run_call(call, **kwargs)
        if call.op != "none":
            writes += 1
        if call.op == "dataset_create":
            created = result
            kwargs["target_uid"] = result
    return writes, created
