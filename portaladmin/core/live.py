"""Live screens: one mechanism for every page. A response that changed objects says which, by key.

A key names one object: "dataset:<connection slug>:<uid>", "harvester:<connection slug>:<uid>". Any response may
carry `HX-Trigger: {"changed": {"keys": [...], "clear": "<checkbox name>"}}`: the pages' elements that show those
objects (`data-live-key="<key> ..."`, with an id) re-read themselves from their `data-live-src` URL (one request per
source, however many elements) and are swapped in place by static/js/app.js. Emitted by edits, bulk actions and the
job pollers (each time a job's progress moves, and when it ends), so lists, headings and detail pages follow.
"""

from __future__ import annotations

from django.http import HttpResponse

from portaladmin.core.htmx import trigger

MAX_KEYS = 500  # a bigger job refreshes the first 500 of its targets: a page never shows more rows than that


def live_key(kind: str, connection_slug: str, ident: str) -> str:
    return f"{kind}:{connection_slug}:{ident}"


def job_keys(job) -> list[str]:
    """The keys of what a job works on ("dataset.publish" → dataset keys; "harvester.start" → harvester keys)."""
    kind = {"harvesters": "harvester"}.get(prefix := (job.kind or "").split(".", 1)[0], prefix)
    if kind not in ("dataset", "harvester"):
        return []
    items = job.items.select_related("connection").only("target", "connection__slug")[:MAX_KEYS]
    return [live_key(kind, item.connection.slug, item.target) for item in items]


def changed(response: HttpResponse, keys: list[str], *, clear: str = "") -> HttpResponse:
    """Tell the page which objects changed (and which checkbox selection to clear)."""
    if not keys and not clear:
        return response
    return trigger(response, "changed", {"keys": list(keys)[:MAX_KEYS], "clear": clear})
