"""The one way a portal's failure reaches a person: one wording, one way onto a form, one "portal unavailable" page.

- `portal_error_message(exc, wrote=…)`: the sentence for a PortalError (messages, form tops, job rows);
- `form_add_portal_errors(form, exc)`: a validation error's details onto the form's fields, anything else on top;
- `@portal_page()`: under connection_view, a portal that fails on a page's own read gives a 502 page that says so
  (HTMX requests: the message alone, out of band), and a portal 404 is our 404.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import render

from portaladmin.core.htmx import is_partial, messages_only
from portaladmin.portals.client.errors import (
    PortalAuthError,
    PortalBlockedAddress,
    PortalConflict,
    PortalError,
    PortalNotFound,
    PortalUnavailable,
    PortalValidationError,
)

_FORM_WIDE = ("__all__", "non_field_errors")


def portal_error_message(exc: PortalError, *, wrote: bool = False, thing: str = "That item") -> str:
    """One sentence per kind of failure. `wrote`: the person asked for a change (then say that nothing changed,
    which after a read would only puzzle)."""
    changed = "; nothing was changed" if wrote else ""
    if isinstance(exc, PortalNotFound):
        return f"{thing} no longer exists on the portal (deleted meanwhile?){changed}."
    if isinstance(exc, PortalUnavailable):
        return f"The portal is unavailable right now{changed}. Try again in a moment. ({exc})"
    if isinstance(exc, PortalAuthError):
        missing = " (a permission is missing)" if exc.is_permission else ""
        return (f"The portal refused the connection's API key{missing}{changed}. "
                "Check the key on the connection's page.")
    if isinstance(exc, PortalConflict):
        return f"The portal refused this in the current state{changed}: {exc.message}"
    if isinstance(exc, PortalValidationError):
        return f"The portal refused this: {portal_detail_text(exc.detail, exc.message)}"
    if isinstance(exc, PortalBlockedAddress):
        return f"The portal's address is not allowed{changed}: {exc}"
    return f"The portal answered with an error{changed}: {exc}"


def request_wrote(request) -> bool:
    return request.method not in ("GET", "HEAD", "OPTIONS")


# ------------------------------------------------------------------------------------------- onto a form

_PREFIX = re.compile(r"^([a-z_][a-z0-9_]*): (.+)$", re.S)


def _peel(path: list[str], text: str) -> list[tuple[list[str], str]]:
    """The client flattens nested details ("default: title: Too long."): recover (path, message) pairs."""
    parts = text.split("; ")
    if len(parts) > 1 and all(_PREFIX.match(p) for p in parts):
        return [pair for part in parts for pair in _peel(path, part)]
    match = _PREFIX.match(text)
    if match:
        return _peel([*path, match.group(1)], match.group(2))
    return [(path, text)]


def _leaves(value: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    """(path of keys, message) for every non-empty leaf of a validation detail, depth first; lists add no key."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, [*path, str(key)])
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _leaves(inner, path)
    elif value not in (None, ""):
        yield path, value


def form_add_portal_errors(form: forms.Form, exc: PortalError, *, aliases: dict[str, str] | None = None) -> None:
    """A validation error's details ({field: [msg]}, possibly nested or flattened) onto the form's fields: each
    message goes to the deepest name of its path the form knows (`aliases` rename portal names to ours), else on
    top of the form. Any other failure goes on top, worded like everywhere else."""
    detail = exc.detail if isinstance(exc, PortalValidationError) else None
    if not detail:
        form.add_error(None, portal_error_message(exc, wrote=True))
        return
    aliases = aliases or {}
    for path, value in _leaves(detail, []):
        for sub_path, text in _peel(path, str(value)):
            _place(form, aliases, sub_path, text)


def _place(form: forms.Form, aliases: dict[str, str], path: list[str], text: str) -> None:
    for name in reversed(path):
        name = aliases.get(name, name)
        if name in form.fields:
            form.add_error(name, text)
            return
    shown = [p for p in path if p not in _FORM_WIDE]
    form.add_error(None, f"{'.'.join(shown)}: {text}" if shown else text)


def portal_detail_text(detail: Any, fallback: str) -> str:
    """One readable line from a validation detail, for places without a form."""
    lines: list[str] = []
    for path, value in _leaves(detail, []):
        shown = [p for p in path if p not in (*_FORM_WIDE, "value")]
        lines.append(f"{'.'.join(shown)}: {value}" if shown else str(value))
    return " ".join(lines) or fallback


# ------------------------------------------------------------------------------------ the unavailable page

def portal_page(*, not_found: str = "Not found on this portal."):
    """Under connection_view: the page's own portal read failing gives a page (502) that says so and where to
    look, not a server error. A portal 404 is our 404; HTMX requests get the message out of band only."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, connection, *args, **kwargs):
            try:
                return view(request, connection, *args, **kwargs)
            except PortalNotFound:
                raise Http404(not_found) from None
            except PortalError as exc:
                text = portal_error_message(exc, wrote=request_wrote(request))
                if is_partial(request):
                    messages.error(request, text)
                    return messages_only(request)
                return render(request, "components/portal_unavailable.html",
                              {"connection": connection, "error": text}, status=502)

        return wrapper

    return decorator
