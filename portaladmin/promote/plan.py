"""Turn a source and a target snapshot into the API calls that make the target's part equal to the source's.

Pure (no I/O): the same function gives the dry run ("the calls it would make") and the promote step (which
re-reads both sides just before, so a re-run on an unchanged source plans nothing and writes nothing).
Principals are mapped by NAME: user rulesets by username, group rulesets by group title; a principal the target
does not know is reported in `unknown`, never guessed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from portaladmin.promote.diff import canonical

T = "{target}"  # the target dataset's uid in a displayed path (it may not exist yet at planning time)


@dataclass
class Call:
    method: str
    path: str
    summary: str
    op: str  # what apply.py runs
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def line(self) -> str:
        return f"{self.method} {self.path} — {self.summary}"


@dataclass
class Plan:
    part: str
    calls: list[Call] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # principals the target does not have
    missing: list[str] = field(default_factory=list)  # datasource connections the target has no match for
    notes: list[str] = field(default_factory=list)


def _same(a, b) -> bool:
    return canonical(a) == canonical(b)


def plan_dataset(source: dict, target: dict, *, dataset_id: str) -> Plan:
    plan = Plan("dataset")
    if target.get("exists"):
        return plan
    default = source.get("metadata", {}).get("default", {})
    metadata = {"default": {name: {"value": default.get(name)} for name in ("title", "modified", "language")}}
    security = source.get("security", {})
    plan.calls.append(Call("POST", "/datasets/", f"create dataset {dataset_id}", "dataset_create", {
        "dataset_id": dataset_id, "metadata": metadata, "is_restricted": bool(security.get("is_restricted")),
        "default_security": security.get("default_security")}))
    return plan


def plan_metadata(source: dict, target: dict) -> Plan:
    plan = Plan("metadata")
    mine, theirs = source.get("metadata", {}), target.get("metadata", {})
    for template, fields in mine.items():
        for name, value in fields.items():
            if name not in theirs.get(template, {}) or not _same(value, theirs[template][name]):
                plan.calls.append(Call("PUT", f"/datasets/{T}/metadata/{template}/{name}/", f"set {template}.{name}",
                                       "metadata_update", {"template": template, "field": name, "value": value}))
    for template, fields in theirs.items():
        for name in fields:
            if name not in mine.get(template, {}):
                plan.calls.append(Call("DELETE", f"/datasets/{T}/metadata/{template}/{name}/",
                                       f"clear {template}.{name}", "metadata_delete",
                                       {"template": template, "field": name}))
    return plan


def _resource_body(res: dict) -> dict:
    return {"type": res["type"], "title": res["title"], "params": res.get("params") or {},
            "datasource": res["datasource"]}


def describe_connection(label: dict) -> str:
    where = label.get("name") or label.get("url") or label.get("uid") or ""
    return f"{label.get('type') or 'datasource'} connection {where}".strip()


def _target_connection(label: dict, source_uid: str, target_connections: dict[str, list[str]]) -> str | None:
    """The target's connection for a source connection's label: the only one with that label, or the one with
    the same uid among several. None: none (or several, none with that uid) — reported, never guessed."""
    if set(label) == {"uid"}:  # the source's key could not read the connection: only its uid is known
        return source_uid
    found = target_connections.get(canonical(label), [])
    if source_uid in found:
        return source_uid
    return found[0] if len(found) == 1 else None


def plan_resources(source: dict, target: dict, *, target_connections: dict[str, list[str]] | None = None) -> Plan:
    """`target_connections`: {canonical(connection label): [connection uids]} on the target (None: not checked,
    the source's connection uid is sent as it is)."""
    plan = Plan("resources")
    mine, theirs = source.get("resources", {}), target.get("resources", {})
    src_refs, dst_refs = source["refs"]["resources"], target["refs"]["resources"]
    for key, res in mine.items():
        is_file = res["datasource"].get("type") == "uploaded_file"
        if key in theirs and _same(res, theirs[key]):
            continue
        args = {"key": key, "body": _resource_body(res)}
        label = res["datasource"].get("connection")
        conn_uid = src_refs.get(key, {}).get("connection_uid", "")
        if conn_uid and isinstance(label, dict):
            mapped = conn_uid if target_connections is None else _target_connection(label, conn_uid,
                                                                                    target_connections)
            if mapped is None:
                plan.missing.append(f"{describe_connection(label)} (for the resource {res['title']})")
                continue
            args["body"] = {**args["body"], "datasource": {**res["datasource"], "connection": {"uid": mapped}}}
        if is_file:
            name = res["datasource"]["file"]["name"]
            args.update(source_file_uid=src_refs[key]["file_uid"], filename=name)
            plan.calls.append(Call("GET", f"/datasets/{source['uid']}/resources/files/{src_refs[key]['file_uid']}/"
                                   "download/", f"download {name} from the source", "none"))
            plan.calls.append(Call("POST", f"/datasets/{T}/resources/files/", f"upload {name}", "none"))
        if key in theirs:
            plan.calls.append(Call("PUT", f"/datasets/{T}/resources/{dst_refs[key]['uid']}/",
                                   f"update resource {res['title']}", "resource_update",
                                   {**args, "resource_uid": dst_refs[key]["uid"]}))
        else:
            plan.calls.append(Call("POST", f"/datasets/{T}/resources/", f"create resource {res['title']}",
                                   "resource_create", args))
    for key, res in theirs.items():
        if key not in mine:
            plan.calls.append(Call("DELETE", f"/datasets/{T}/resources/{dst_refs[key]['uid']}/",
                                   f"delete resource {res['title']}", "resource_delete",
                                   {"resource_uid": dst_refs[key]["uid"]}))
    return plan


def _plan_ordered(part: str, source: dict, target: dict, noun: str, collection: str) -> Plan:
    """Same types in the same order: update the positions that differ. Otherwise delete the target's items from
    the first difference on and create the source's from there, in order (the API has no 'move')."""
    plan = Plan(part)
    mine, theirs, uids = source.get(part, []), target.get(part, []), target["refs"][part]
    if len(mine) == len(theirs) and [m.get("type") for m in mine] == [t.get("type") for t in theirs]:
        for i, (one, other) in enumerate(zip(mine, theirs, strict=True)):
            if not _same(one, other):
                plan.calls.append(Call("PUT", f"/datasets/{T}/{collection}/{uids[i]}/",
                                       f"update {noun} #{i + 1} ({one.get('type')})", f"{part}_update",
                                       {"item_uid": uids[i], "body": one}))
        return plan
    first = next((i for i, (a, b) in enumerate(zip(mine, theirs, strict=False))
                  if not _same(a, b)), min(len(mine), len(theirs)))
    for i in range(first, len(theirs)):
        plan.calls.append(Call("DELETE", f"/datasets/{T}/{collection}/{uids[i]}/",
                               f"delete {noun} #{i + 1} ({theirs[i].get('type')})", f"{part}_delete",
                               {"item_uid": uids[i]}))
    for i in range(first, len(mine)):
        plan.calls.append(Call("POST", f"/datasets/{T}/{collection}/", f"create {noun} #{i + 1} "
                               f"({mine[i].get('type')})", f"{part}_create", {"body": mine[i]}))
    return plan


def plan_processors(source: dict, target: dict) -> Plan:
    return _plan_ordered("processors", source, target, "processor", "processors")


def plan_fields(source: dict, target: dict) -> Plan:
    return _plan_ordered("fields", source, target, "field configuration", "fields")


def plan_schedules(source: dict, target: dict) -> Plan:
    plan = Plan("schedules")
    mine, theirs = Counter(source.get("schedules", [])), Counter(target.get("schedules", []))
    for cron, count in sorted(theirs.items()):
        extra = max(0, count - mine.get(cron, 0))
        for uid in target["refs"]["schedules"].get(cron, [])[count - extra:]:  # keep the oldest ones
            plan.calls.append(Call("DELETE", f"/datasets/{T}/schedules/{uid}/", f"delete schedule {cron}",
                                   "schedules_delete", {"item_uid": uid}))
    for cron, count in sorted(mine.items()):
        for _ in range(max(0, count - theirs.get(cron, 0))):
            plan.calls.append(Call("POST", f"/datasets/{T}/schedules/", f"create schedule {cron}", "schedules_create",
                                   {"cron": cron}))
    return plan


def plan_security(source: dict, target: dict, *, known_users: set[str] | None,
                  target_groups: dict[str, str]) -> Plan:
    """`known_users`: the source's ruleset usernames that exist on the target (None: not checked);
    `target_groups`: {group title: group uid} on the target."""
    plan = Plan("security")
    mine, theirs = source.get("security", {}), target.get("security", {})
    if any(not _same(mine.get(k), theirs.get(k)) for k in ("is_restricted", "default_security")):
        plan.calls.append(Call("PUT", f"/datasets/{T}/", "set restricted / default security", "dataset_security",
                               {"is_restricted": bool(mine.get("is_restricted")),
                                "default_security": mine.get("default_security")}))
    for kind, noun in (("users", "user"), ("groups", "group")):
        rules, present = mine.get(kind, {}), theirs.get(kind, {})
        for name, rule in rules.items():
            if kind == "users":
                principal = name if known_users is None or name in known_users else None
            else:
                principal = target_groups.get(name)
            if principal is None:
                plan.unknown.append(f"{noun} {name}")
                continue
            args = {"kind": kind, "principal": principal, "permissions": rule["permissions"],
                    "security": rule.get("security")}
            if name not in present:
                plan.calls.append(Call("POST", f"/datasets/{T}/security/{kind}/", f"grant {noun} {name}",
                                       "ruleset_create", args))
            elif not _same(rule, present[name]):
                plan.calls.append(Call("PUT", f"/datasets/{T}/security/{kind}/{principal}/",
                                       f"change {noun} {name}", "ruleset_update", args))
        for name in present:
            if name not in rules:
                principal = name if kind == "users" else target["refs"]["groups"].get(name, name)
                plan.calls.append(Call("DELETE", f"/datasets/{T}/security/{kind}/{principal}/",
                                       f"remove {noun} {name}", "ruleset_delete", {"kind": kind, "principal": principal}))
    return plan


def plan_publish(source: dict, target: dict, *, wrote: bool) -> Plan:
    """Publish when the source is published and the target is not, or when this promote changed the target
    (a published dataset shows configuration changes only after it is processed again)."""
    plan = Plan("publication")
    if source.get("publication", {}).get("is_published") and (
            wrote or not target.get("publication", {}).get("is_published")):
        plan.calls.append(Call("POST", f"/datasets/{T}/publish/", "publish and watch until idle", "publish"))
    elif not source.get("publication", {}).get("is_published"):
        plan.notes.append("The source is not published: the target's publication is left as it is.")
    return plan


def plan_part(part: str, source: dict, target: dict, *, dataset_id: str = "", known_users=None,
              target_groups=None, wrote: bool = False, target_connections=None) -> Plan:
    if part == "dataset":
        return plan_dataset(source, target, dataset_id=dataset_id or source.get("dataset_id", ""))
    if part == "security":
        return plan_security(source, target, known_users=known_users, target_groups=target_groups or {})
    if part == "publication":
        return plan_publish(source, target, wrote=wrote)
    if part == "resources":
        return plan_resources(source, target, target_connections=target_connections)
    return {"metadata": plan_metadata, "processors": plan_processors,
            "fields": plan_fields, "schedules": plan_schedules}[part](source, target)
