"""A dataset's resources: the source of a draft (URL, uploaded file, saved datasource connection), the portal's
guesses and preview before anything is saved, saving (create or update), the actions on a saved resource, and
the realtime push key. Reads here are not audited; every write is (`dataset.resource.*`), never with a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import urlsplit

from portaladmin.audit.services import audit_remote_write
from portaladmin.core.logging import REDACTED
from portaladmin.core.masking import url_masked
from portaladmin.portals.client import client_for
from portaladmin.portals.client.errors import PortalError
from portaladmin.portals.client.resources import PUSH_KEY_PARAMS
from portaladmin.portals.models import Connection

# Actions on a saved resource: name → (the call, audit action, success message). The calls are spelled out so
# that `grep .resource_enable(` finds them (and the spec-coverage test does).
ACTIONS = {
    "clean_cache": (lambda c, uid, rid: c.resource_clean_cache(uid, rid), "dataset.resource.clean_cache",
                    "Cache of the resource cleaned."),
    "enable": (lambda c, uid, rid: c.resource_enable(uid, rid), "dataset.resource.enable", "Resource enabled."),
    "disable": (lambda c, uid, rid: c.resource_disable(uid, rid), "dataset.resource.disable", "Resource disabled."),
    "recover": (lambda c, uid, rid: c.resource_recover(uid, rid), "dataset.resource.recover",
                "Realtime data recovery started."),
    "delete_recovered": (lambda c, uid, rid: c.resource_delete_recovered_data(uid, rid),
                         "dataset.resource.delete_recovered", "Recovered realtime data deleted."),
}


@dataclass
class Source:
    """Where a resource reads its data: exactly one of url / file_uid / connection_uid (+ relative_url)."""

    kind: str  # "url" | "file" | "connection"
    url: str = ""
    file_uid: str = ""
    connection_uid: str = ""
    connection_type: str = "http"
    relative_url: str = ""
    extra: dict = field(default_factory=dict)  # what the portal had that we do not edit (headers …)

    def datasource(self) -> dict:
        if self.kind == "file":
            return {"type": "uploaded_file", "file": {"uid": self.file_uid}}
        if self.kind == "connection":
            return {**self.extra, "type": self.connection_type or "http", "connection": {"uid": self.connection_uid},
                    "relative_url": self.relative_url}
        parts = urlsplit(self.url)
        relative = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return {**self.extra, "type": "http",
                "connection": {"type": "http", "url": f"{parts.scheme}://{parts.netloc}", "auth": None},
                "relative_url": relative}

    def label(self) -> str:
        if self.kind == "file":
            return self.file_uid
        if self.kind == "connection":
            return f"{self.connection_uid} {self.relative_url}".strip()
        return self.url


def source_of(datasource: dict) -> Source | None:
    """The editable Source of a saved resource's datasource, or None for kinds edited elsewhere (federated …)."""
    ds = datasource if isinstance(datasource, dict) else {}
    kind = ds.get("type")
    if kind == "uploaded_file":
        file = ds.get("file") if isinstance(ds.get("file"), dict) else {}
        return Source(kind="file", file_uid=str(file.get("uid") or ""))
    conn = ds.get("connection") if isinstance(ds.get("connection"), dict) else {}
    extra = {k: v for k, v in ds.items() if k in ("headers",)}
    if conn.get("url"):
        # An inline connection: editable as a plain http(s) URL only. One with credentials (auth) or another
        # protocol is left alone: re-sending it would drop or overwrite what the portal keeps.
        if kind != "http" or conn.get("auth"):
            return None
        url = str(conn["url"]).rstrip("/") + "/" + str(ds.get("relative_url") or "").lstrip("/")
        if REDACTED in url or "@" in urlsplit(url).netloc:
            # A key the client redacted ("?apikey=[redacted]") would be sent back as "[redacted]", breaking the
            # resource; credentials in the URL would be shown in the edit form. Left alone, like `auth` above.
            return None
        return Source(kind="url", url=url, extra=extra)
    if conn.get("uid"):
        return Source(kind="connection", connection_uid=str(conn["uid"]), connection_type=str(kind or "http"),
                      relative_url=str(ds.get("relative_url") or ""), extra=extra)
    return None


def source_reads(datasource: dict, *, fallback: str = "") -> str:
    """What a resource reads, for people: its URL (credentials and secret query values masked), the path on its
    saved datasource connection, or its uploaded file's name. `fallback` (the portal's display_name, which for
    a URL may be the path alone) only when the datasource says nothing more."""
    ds = datasource if isinstance(datasource, dict) else {}
    conn = ds.get("connection") if isinstance(ds.get("connection"), dict) else {}
    relative = str(ds.get("relative_url") or "")
    if ds.get("type") == "uploaded_file":
        file = ds.get("file") if isinstance(ds.get("file"), dict) else {}
        return str(file.get("filename") or file.get("uid") or fallback)
    if conn.get("url"):
        base = str(conn["url"])
        url = base.rstrip("/") + "/" + relative.lstrip("/") if relative else base
        return url_masked(url)
    if conn.get("uid"):
        return f"{url_masked(relative) or '/'} on the datasource connection {conn['uid']}"
    return url_masked(fallback) if fallback else ""


def public_params(params: dict) -> dict:
    """Params without the push key (a secret that is shown once, when renewed)."""
    return {k: v for k, v in (params or {}).items() if k not in PUSH_KEY_PARAMS}


def _audit(action: str, *, connection: Connection, actor, uid: str, request=None, extra: dict | None = None):
    return audit_remote_write(action=action, actor=actor, connection=connection, target=uid, request=request,
                              extra=extra)


# ---------------------------------------------------------------------------------------------- reads

def extractors_read(*, connection: Connection) -> list:
    return client_for(connection).extractor_list()


def resource_read(*, connection: Connection, uid: str, resource_uid: str):
    return client_for(connection).resource_get(uid, resource_uid)


def resource_guess(*, connection: Connection, uid: str, source: Source, extractor: str = "") -> tuple[str, dict]:
    """The extractor (the one given, else the portal's first guess) and the parameters the portal guesses for it."""
    client = client_for(connection)
    datasource = source.datasource()
    if not extractor:
        guesses = client.resource_unsaved_guess_extractors(uid, datasource=datasource)
        extractor = guesses[0].type if guesses else "csvfile"
    guess = client.resource_unsaved_guess_params(uid, type=extractor, datasource=datasource)
    return guess.extractor or extractor, guess.params


def resource_guess_saved(*, connection: Connection, uid: str, resource_uid: str) -> tuple[str, dict]:
    """What the portal guesses today for a saved resource's own source (its file may have changed)."""
    client = client_for(connection)
    guesses = client.resource_guess_extractors(uid, resource_uid)
    guess = client.resource_guess_params(uid, resource_uid)
    return guess.extractor or (guesses[0].type if guesses else ""), guess.params


def resource_file_read(*, connection: Connection, uid: str, datasource: dict) -> dict | None:
    """The uploaded file behind a datasource ({uid, filename, mimetype, created_at, …}): from the answer when the
    portal expanded it, else read (one request); None for other sources or when it cannot be read."""
    if not isinstance(datasource, dict) or datasource.get("type") != "uploaded_file":
        return None
    file = datasource.get("file") if isinstance(datasource.get("file"), dict) else {}
    if not file.get("uid") or file.get("filename"):
        return file or None
    try:
        return client_for(connection).resource_file_get(uid, file["uid"]).raw or file
    except PortalError:
        return file  # the page still offers the download; the name is the file's uid


def resource_file_open(*, connection: Connection, uid: str, file_uid: str):
    """A resource's uploaded file as a streamed Download (headers read, body not yet)."""
    return client_for(connection).resource_file_download(uid, file_uid)


def attachment_open(*, connection: Connection, uid: str, attachment_uid: str):
    return client_for(connection).attachment_download(uid, attachment_uid)


def resource_draft_preview(*, connection: Connection, uid: str, source: Source, extractor: str, params: dict):
    return client_for(connection).resource_unsaved_preview(
        uid, {"type": extractor, "params": params, "datasource": source.datasource()})


# ---------------------------------------------------------------------------------------------- writes

def resource_file_upload(*, connection: Connection, actor, uid: str, file: BinaryIO, filename: str,
                         content_type: str = "application/octet-stream", request=None):
    """Stream an uploaded file to the portal (before the resource that reads it exists: a draft's source)."""
    with _audit("dataset.resource.file_upload", connection=connection, actor=actor, uid=uid, request=request,
                extra={"filename": filename}):
        return client_for(connection).resource_upload_file(uid, file, filename=filename, content_type=content_type)


def resource_save(*, connection: Connection, actor, uid: str, source: Source, title: str, extractor: str,
                  params: dict, resource_uid: str | None = None, request=None):
    """Create the resource, or update `resource_uid`. On update the portal's current params are read first and
    the edited ones laid over them, so the push key (never in a form) is kept as it is."""
    client = client_for(connection)
    body = {"type": extractor, "title": title or source.label()[:255], "params": dict(params),
            "datasource": source.datasource()}
    extra = {"origin": body["datasource"]["type"], "extractor": extractor}
    if resource_uid is None:
        with _audit("dataset.resource.create", connection=connection, actor=actor, uid=uid, request=request,
                    extra=extra):
            return client.resource_create(uid, body)
    current = client.resource_get(uid, resource_uid)
    kept = {k: v for k, v in (current.params or {}).items() if k in PUSH_KEY_PARAMS or k == "enabled"}
    body["params"] = {**body["params"], **kept}
    with _audit("dataset.resource.update", connection=connection, actor=actor, uid=uid, request=request,
                extra={**extra, "resource": resource_uid}):
        return client.resource_update(uid, resource_uid, body)


def resource_action(*, connection: Connection, actor, uid: str, resource_uid: str, action: str, request=None):
    call, audit_action, _message = ACTIONS[action]
    with _audit(audit_action, connection=connection, actor=actor, uid=uid, request=request,
                extra={"resource": resource_uid}):
        return call(client_for(connection), uid, resource_uid)


def resource_push_key_renew(*, connection: Connection, actor, uid: str, resource_uid: str, request=None) -> str:
    """A new push key for a realtime resource. The key is returned to be shown once; it is registered for
    redaction by the client and never audited, logged or stored."""
    with _audit("dataset.resource.renew_push_key", connection=connection, actor=actor, uid=uid, request=request,
                extra={"resource": resource_uid}):
        _resource, key = client_for(connection).resource_renew_push_key(uid, resource_uid)
    return key


def preview_rows(preview) -> list[list[str]]:
    """A preview's records as rows of cells in the order of its fields (at most 20)."""
    from portaladmin.datasets.remote import display_value

    names = [str(f.get("name", "")) for f in preview.fields if isinstance(f, dict)]
    rows = []
    for record in preview.records[:20]:
        values = record.get("fields", record) if isinstance(record, dict) else {}
        rows.append([display_value(values.get(name)) if isinstance(values, dict) else "" for name in names])
    return rows
