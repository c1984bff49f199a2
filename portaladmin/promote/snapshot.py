"""Read one dataset's configuration from a portal into a plain, portal-independent dict (a "snapshot").

A snapshot says WHAT a dataset is, in terms that mean the same on any portal: resources keyed by their URL or
uploaded file name, processors and field configurations in order without their uids, rulesets keyed by user
name and group TITLE (a group's uid is per portal). The portal's own ids needed to change the target are kept
apart under "refs" (never compared). diff.py compares two snapshots; plan.py turns them into API calls.
"""

from __future__ import annotations

from typing import Any

from portaladmin.portals.client.errors import PortalAuthError, PortalNotFound

PARTS = ("dataset", "metadata", "resources", "processors", "fields", "schedules", "security", "publication")
PART_LABELS = {"dataset": "Dataset", "metadata": "Metadata", "resources": "Resources", "processors": "Processors",
               "fields": "Field configurations", "schedules": "Schedules", "security": "Security",
               "publication": "Publication"}
# What the portal itself writes (processing dates, counts): never compared, never promoted.
PORTAL_OWNED_METADATA = {("default", "metadata_processed"), ("default", "data_processed"),
                         ("default", "records_count")}
_VOLATILE = ("uid", "created_at", "updated_at", "display_name", "origin", "extraction_infos")


def _clean(raw: dict) -> dict:
    return {k: v for k, v in (raw or {}).items() if k not in _VOLATILE}


def resource_key(datasource: dict, title: str, filename: str = "") -> str:
    """What makes two resources 'the same' across portals: the URL, else the uploaded file's name, else the title."""
    kind = (datasource or {}).get("type", "")
    if kind == "uploaded_file":
        return f"file:{filename or title}"
    url = (datasource or {}).get("url") or (datasource or {}).get("relative_url")
    return f"url:{url}" if url else f"title:{title}"


def empty_snapshot(dataset_id: str = "") -> dict:
    return {"exists": False, "dataset_id": dataset_id, "uid": "", "metadata": {}, "resources": {}, "processors": [],
            "fields": [], "schedules": [], "security": {}, "publication": {},
            "refs": {"resources": {}, "processors": [], "fields": [], "schedules": {}, "groups": {}}}


def _all_pages(fetch) -> list:
    items, offset = [], 0
    while True:
        page = fetch(limit=100, offset=offset)
        items.extend(page.results)
        offset += len(page.results)
        if not page.results or not page.next:  # `next` is the truth (a total_count may be inflated)
            return items


def read_metadata(client, uid: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for template, fields in client.metadata_get_all(uid).items():
        values = {name: value.value for name, value in fields.items() if (template, name) not in PORTAL_OWNED_METADATA}
        if values:
            out[template] = values
    return out


def connection_label(connection) -> dict:
    """What makes two datasource connections 'the same' across portals (their uids are per portal): the type, and
    the name when the portal gives one, else the address it points to (the API's connections carry no name)."""
    raw = getattr(connection, "raw", None) or {}
    label = {"type": connection.type}
    name = raw.get("name") or raw.get("title")
    if name:
        label["name"] = str(name)
    elif connection.url:
        label["url"] = connection.url.rstrip("/")
    return label


def _portable_connection(client, datasource: dict, labels: dict) -> tuple[dict, str]:
    """A resource's datasource with its connection {"uid"} replaced by the connection's label (compared across
    portals), and that uid ('' when the datasource names no connection by uid)."""
    conn = datasource.get("connection")
    if not isinstance(conn, dict) or not conn.get("uid"):
        return datasource, ""
    conn_uid = str(conn["uid"])
    if conn_uid not in labels:
        try:
            labels[conn_uid] = connection_label(client.datasource_connection_get(conn_uid))
        except PortalNotFound:
            labels[conn_uid] = {"uid": conn_uid, "missing": "this connection does not exist on its own portal"}
        except PortalAuthError as exc:  # this key may not read connections: compared (and sent) by uid, as it is
            if not exc.is_permission:
                raise
            labels[conn_uid] = {"uid": conn_uid}
    return {**datasource, "connection": labels[conn_uid]}, conn_uid


def read_resources(client, uid: str, *, with_sizes: bool = True) -> tuple[dict, dict]:
    """({key: comparable resource}, {key: {"uid", "file_uid", "connection_uid"}}). Uploaded files are compared by
    name and size (the size from the download's Content-Length, else counted by streaming it: the API says no
    size); datasource connections by their label (connection_label), their uid kept in the refs."""
    resources, refs, labels = {}, {}, {}
    for res in _all_pages(lambda **kw: client.resource_list(uid, **kw)):
        source, conn_uid = _portable_connection(client, dict(res.datasource or {}), labels)
        file_uid, filename = "", ""
        if source.get("type") == "uploaded_file":
            file_uid = str((source.get("file") or {}).get("uid") or "")
            filename, size = file_uid, None
            if file_uid:
                try:
                    filename = client.resource_file_get(uid, file_uid).filename or file_uid
                    if with_sizes:
                        size = client.resource_file_size(uid, file_uid)
                except PortalNotFound:
                    filename = f"{file_uid} (file missing)"
            source = {"type": "uploaded_file", "file": {"name": filename, "size": size}}
        key = base = resource_key(source, res.title, filename)
        n = 1
        while key in resources:  # two resources from the same URL (e.g. two extractors): kept apart, in order
            n += 1
            key = f"{base} #{n}"
        resources[key] = {"title": res.title, "type": res.type, "params": res.params or {}, "datasource": source}
        refs[key] = {"uid": res.uid, "file_uid": file_uid, "connection_uid": conn_uid}
    return resources, refs


def read_processors(client, uid: str) -> tuple[list, list]:
    items = client.processor_list(uid).results
    return [_clean(p.raw) for p in items], [p.uid for p in items]


def read_fields(client, uid: str) -> tuple[list, list]:
    items = client.field_config_list(uid).results
    return [_clean(f.raw) for f in items], [f.uid for f in items]


def read_schedules(client, uid: str) -> tuple[list, dict]:
    crons, refs = [], {}
    for sched in _all_pages(lambda **kw: client.dataset_schedule_list(uid, **kw)):
        crons.append(sched.cron_schedule)
        refs.setdefault(sched.cron_schedule, []).append(sched.uid)
    return sorted(crons), refs


def group_titles(client, group_uids) -> dict[str, str]:
    """{group uid: title}; a group that cannot be read keeps its uid as its name (said so in the diff)."""
    titles = {}
    for group_uid in group_uids:
        try:
            titles[group_uid] = client.group_get(group_uid).title or group_uid
        except PortalNotFound:
            titles[group_uid] = group_uid
    return titles


def read_security(client, uid: str, dataset) -> tuple[dict, dict]:
    users = {r.username: {"permissions": sorted(r.permissions), "security": r.security}
             for r in _all_pages(lambda **kw: client.dataset_user_ruleset_list(uid, **kw)) if r.username}
    group_rules = [r for r in _all_pages(lambda **kw: client.dataset_group_ruleset_list(uid, **kw)) if r.group_uid]
    titles = group_titles(client, [r.group_uid for r in group_rules])
    groups = {titles[r.group_uid]: {"permissions": sorted(r.permissions), "security": r.security} for r in group_rules}
    security = {"is_restricted": bool(dataset.is_restricted), "default_security": dataset.default_security,
                "users": users, "groups": groups}
    return security, {title: group_uid for group_uid, title in titles.items()}


def read_snapshot(client, uid: str, *, parts=PARTS, with_sizes: bool = True) -> dict:
    """The snapshot of dataset `uid` (only `parts` are read: a promote step reads the part it writes)."""
    dataset = client.dataset_get(uid)
    snap = empty_snapshot(dataset.dataset_id)
    snap.update(exists=True, uid=dataset.uid, publication={"is_published": bool(dataset.is_published)})
    refs = snap["refs"]
    if "metadata" in parts or "dataset" in parts:
        snap["metadata"] = read_metadata(client, uid)
    if "resources" in parts:
        snap["resources"], refs["resources"] = read_resources(client, uid, with_sizes=with_sizes)
    if "processors" in parts:
        snap["processors"], refs["processors"] = read_processors(client, uid)
    if "fields" in parts:
        snap["fields"], refs["fields"] = read_fields(client, uid)
    if "schedules" in parts:
        snap["schedules"], refs["schedules"] = read_schedules(client, uid)
    if "security" in parts or "dataset" in parts:
        snap["security"], refs["groups"] = read_security(client, uid, dataset)
    return snap


def find_counterpart(client, dataset_id: str):
    """The dataset with exactly this dataset_id on the other portal, or None."""
    return client.dataset_lookup(dataset_id) if dataset_id else None
