"""The connection switcher keeps the page: users of one portal → users of the other.

The current path's nearest ancestor that names only the connection (a list page: /c/a/users/ for
/c/a/users/ada/, /c/a/datasets/ for /c/a/datasets/da_1/metadata/) is the page that exists on every connection;
object pages (one user, one dataset) do not, so the switcher goes to their list. Elsewhere: the dataset list.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, Resolver404, resolve, reverse

FALLBACK = "datasets:list"


def connection_page_name(path: str) -> str:
    """The URL name of the nearest ancestor of `path` whose only argument is the connection ('' if none)."""
    while path and path != "/":
        try:
            match = resolve(path)
        except Resolver404:
            match = None
        if match is not None and set(match.kwargs) == {"conn"} and match.view_name:
            return match.view_name
        path = path.rstrip("/").rsplit("/", 1)[0] + "/"
    return ""


def switch_links(request, connections) -> list[dict]:
    """[{connection, url}] for the switcher: the same page on each connection where it exists."""
    name = connection_page_name(request.path_info) if getattr(request, "connection", None) else ""
    links = []
    for conn in connections:
        url = ""
        if name:
            try:
                url = reverse(name, kwargs={"conn": conn.slug})
            except NoReverseMatch:
                url = ""
        links.append({"connection": conn, "url": url or reverse(FALLBACK, kwargs={"conn": conn.slug})})
    return links
