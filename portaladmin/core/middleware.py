import uuid

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import resolve_url
from django.utils.cache import patch_vary_headers

from portaladmin.core.logging import request_id_var


class RequestIdMiddleware:
    """Give every request an id (or keep the proxy's X-Request-ID) for logs and the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if incoming.replace("-", "").isalnum() and len(incoming) <= 64 and incoming else uuid.uuid4().hex
        request.request_id = rid
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response


class VaryOnHtmxMiddleware:
    """Pages answer HTMX requests with partials, so every response varies on HX-Request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response


class HtmxLoginRedirectMiddleware:
    """An HTMX request whose session expired gets HX-Redirect to the login page, not the login page
    swapped into a fragment (a polling overview would otherwise show a log-in form inside a card)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (request.headers.get("HX-Request") == "true" and response.status_code == 302
                and response.get("Location", "").startswith(resolve_url(settings.LOGIN_URL))):
            redirect = HttpResponse(status=204)
            redirect["HX-Redirect"] = response["Location"]
            return redirect
        return response


class RejectNulBytesMiddleware:
    """A NUL character is never part of a value a person types, and PostgreSQL refuses it in text columns (an
    audit row, a filter): answer 400 with a clear message before any view sees the value, instead of a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        values = [request.path, *view_kwargs.values(), *request.GET.keys(),
                  *(v for vs in request.GET.lists() for v in vs[1])]
        # Only a body that was already parsed (CsrfViewMiddleware parses every form it checks): reading it here
        # would take the stream from views that read the raw body (the csrf-exempt sandbox API).
        if request.method == "POST" and (hasattr(request, "_post") or (
                not getattr(view_func, "csrf_exempt", False)
                and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"))):
            values += [*request.POST.keys(), *(v for vs in request.POST.lists() for v in vs[1])]
        if any("\x00" in str(value) for value in values):
            return HttpResponseBadRequest("The request contains a NUL character (\\x00), which no field accepts.",
                                          content_type="text/plain; charset=utf-8")
        return None
