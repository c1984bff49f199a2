import uuid

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
