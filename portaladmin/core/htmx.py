"""HTMX helpers shared by every app: partial detection, rendering page-or-partial, messages OOB."""

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def is_partial(request: HttpRequest) -> bool:
    """HTMX requests get fragments; boosted navigation, history restores and plain requests get whole pages."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(request: HttpRequest, template: str, context: dict, *, partial: str | None = None,
                status: int = 200) -> HttpResponse:
    """Render the whole page, or only `template#partial` for HTMX requests (plus OOB messages)."""
    if partial and is_partial(request):
        response = render(request, f"{template}#{partial}", context, status=status)
        return with_messages(request, response)
    return render(request, template, context, status=status)


def with_messages(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Append the messages container as an out-of-band swap, if there are messages to show."""
    storage = messages.get_messages(request)
    pending = list(storage)
    if pending:
        html = render_to_string("components/messages.html", {"messages": pending, "oob": True}, request=request)
        response.content = response.content + html.encode()
    return response


def redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that HTMX follows as a navigation (never a bare 302 to an HTMX request)."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def trigger(response: HttpResponse, event: str, detail: dict | None = None) -> HttpResponse:
    existing = json.loads(response.get("HX-Trigger", "{}") or "{}")
    existing[event] = detail or {}
    response["HX-Trigger"] = json.dumps(existing)
    return response


def messages_only(request: HttpRequest) -> HttpResponse:
    """An HTMX answer that changes nothing on the page but the messages (swapped out of band)."""
    response = with_messages(request, HttpResponse(""))
    response["HX-Reswap"] = "none"
    return response
