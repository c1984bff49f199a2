"""The sandbox API entry point: routing by the spec's path templates, auth, faults, errors, pagination, log."""

import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from portaladmin.core.bodylimit import accepts_upload

from . import clock
from .models import SandboxPortal, SandboxRequestCount
from .status import InvalidStatus, _rng

logger = logging.getLogger(__name__)
ROUTES: list[tuple[str, str, re.Pattern, int, Callable]] = []


def route(method: str, template: str):
    def register(func):
        pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
        ROUTES.append((method, template, re.compile(pattern), template.count("{"), func))
        return func
    return register


class ApiError(Exception):
    def __init__(self, status: int, error_code: str, message: str, detail: dict | None = None,
                 trace: bool = False):
        super().__init__(message)
        self.status, self.error_code, self.message, self.detail = status, error_code, message, detail
        self.trace = trace

    def response(self) -> JsonResponse:
        body = {"error_code": self.error_code, "message": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        if self.trace or self.status >= 500:
            body["trace_id"] = str(uuid.uuid4())
        return JsonResponse(body, status=self.status)


def not_found() -> ApiError:
    return ApiError(404, "not_found", "Not found.")


def invalid(detail: dict, message: str = "Invalid input") -> ApiError:
    return ApiError(400, "validation_error", message, detail)


@dataclass
class Ctx:
    request: HttpRequest
    portal: SandboxPortal
    now: object
    username: str = "admin"  # the seeded domain administrator, owner of the seeded key
    _body: object = field(default=None)

    def json(self, kind=dict):
        if self._body is None:
            raw = self.request.body or b""
            form = self.request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded")
            if form or not raw.strip():
                self._body = kind()
            else:
                try:
                    self._body = json.loads(raw)
                except ValueError:
                    raise ApiError(400, "bad_request", "Bad request: the body is not valid JSON.") from None
        if not isinstance(self._body, kind):
            expected = "an array" if kind is list else "an object"
            raise invalid({"non_field_errors": [f"Expected {expected}."]})
        return self._body

    def param(self, name: str, default=None):
        return self.request.GET.get(name, default)

    def params(self, name: str) -> list[str]:
        values = []
        for v in self.request.GET.getlist(name):
            values.extend(x for x in v.split(",") if x)
        return values

    def flag(self, name: str) -> bool | None:
        value = self.request.GET.get(name)
        if value is None:
            return None
        return value.lower() in ("1", "true", "yes")


def ok() -> JsonResponse:
    return JsonResponse({"detail": "ok"})


def deleted() -> HttpResponse:
    return HttpResponse(status=204)


def page_bounds(ctx: Ctx) -> tuple[int, int]:
    errors = {}
    try:
        limit = int(ctx.param("limit", 20))
        if not 0 <= limit <= 1000:
            errors["limit"] = ["Ensure this value is between 0 and 1000."]
    except ValueError:
        errors["limit"] = ["A valid integer is required."]
    try:
        offset = int(ctx.param("offset", 0))
        if offset < 0:
            errors["offset"] = ["Ensure this value is greater than or equal to 0."]
    except ValueError:
        errors["offset"] = ["A valid integer is required."]
    if errors:
        raise invalid(errors)
    return limit, offset


def _page_url(ctx: Ctx, limit: int, offset: int) -> str:
    query = ctx.request.GET.copy()
    query["limit"] = str(limit)
    query["offset"] = str(offset)
    if "apikey" in query:
        del query["apikey"]
    return ctx.request.build_absolute_uri(ctx.request.path) + "?" + urlencode(query, doseq=True)


def paginated(ctx: Ctx, total: int, results: list, limit: int, offset: int) -> JsonResponse:
    nxt = _page_url(ctx, limit, offset + limit) if limit and offset + limit < total else None
    prev = _page_url(ctx, limit, max(0, offset - limit)) if limit and offset > 0 else None
    if getattr(ctx.portal, "inflated_total_count", False):  # a buggy portal: the count lies, `next` does not
        total *= 1000
    return JsonResponse({"total_count": total, "next": nxt, "previous": prev, "results": results})


def paginate_list(ctx: Ctx, items: list, serialize=lambda x: x) -> JsonResponse:
    limit, offset = page_bounds(ctx)
    chunk = items[offset:offset + limit] if limit else []
    return paginated(ctx, len(items), [serialize(x) for x in chunk], limit, offset)


# ---------------------------------------------------------------- request log and faults

def log_request(portal: str, method: str, path: str, status: int) -> None:
    portal, method, path = portal[:60], method[:10], path[:200]
    rows = SandboxRequestCount.objects.filter(portal=portal, method=method, path=path, status=status)
    if rows.update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            SandboxRequestCount.objects.create(portal=portal, method=method, path=path, status=status, count=1)
    except IntegrityError:
        rows.update(count=F("count") + 1)


def _fault(portal: SandboxPortal) -> HttpResponse | None:
    if portal.error_rate <= 0 and portal.throttle_rate <= 0:
        return None
    SandboxPortal.objects.filter(pk=portal.pk).update(request_counter=F("request_counter") + 1)
    number = SandboxPortal.objects.values_list("request_counter", flat=True).get(pk=portal.pk)
    rng = _rng(portal.seed, number)
    draw = rng.random()
    if draw < portal.error_rate:
        status = rng.choice((500, 502, 503))
        return ApiError(status, "internal_error", "A server error occurred.").response()
    if draw < portal.error_rate + portal.throttle_rate:
        resp = ApiError(429, "too_many_requests", "Too many requests: rate limit exceeded.").response()
        resp["Retry-After"] = str(portal.retry_after)
        return resp
    return None


def _api_key(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "apikey" and value.strip():
        return value.strip()
    return request.GET.get("apikey", "")


def _authenticated(portal: SandboxPortal, key: str) -> tuple[bool, set[str] | None]:
    """(accepted, permissions). The portal's key has every permission; a key made with POST /apikeys/ has
    its own permissions; a revoked key (even the seeded one) is refused."""
    if not key:
        return False, None
    from .models import SandboxObject, hash_key

    hashed = hash_key(key)
    matches = [d for d in SandboxObject.objects.filter(portal=portal, kind="apikey").values_list("data", flat=True)
               if secrets.compare_digest(d.get("_key_hash", ""), hashed)]
    if matches:
        live = [d for d in matches if not d.get("is_revoked")]
        return bool(live), (set(live[0].get("permissions", [])) if live else None)
    return portal.check_key(key), None


_DOMAIN = ("/users/", "/groups/", "/apikeys/", "/metadata/templates/", "/medias/", "/datasource_connections/")
_DATASET_ACTIONS = ("/publish/", "/unpublish/", "/abort/", "/publish_metadata/")


def required_permissions(method: str, template: str) -> set[str]:
    """What a key needs for an operation (edit_domain grants everything). Reads of datasets and pages are free."""
    if template.startswith(_DOMAIN):
        return {"edit_domain"}
    if method == "GET":
        return set()
    if template.startswith("/harvesters/"):
        return {"create_dataset", "edit_dataset", "publish_dataset"}
    if template.startswith(("/studio_pages/", "/code_editor_pages/")):
        if "/security/" in template:
            return {"manage_page"}
        return {"create_page"} if method == "POST" and template.count("/") == 2 else {"edit_page"}
    if template == "/datasets/":
        return {"create_dataset"}
    if template.endswith(_DATASET_ACTIONS):
        return {"publish_dataset"}
    if "/security/" in template:
        return {"manage_dataset"}
    return {"edit_dataset"}


def _match(method: str, path: str):
    candidates = []
    path_matched = False
    for m, template, pattern, nvars, func in ROUTES:
        found = pattern.match(path)
        if found:
            path_matched = True
            if m == method:
                candidates.append((nvars, template, func, found.groupdict()))
    if not candidates:
        return None, None, {}, path_matched
    candidates.sort(key=lambda c: c[0])
    nvars, template, func, kwargs = candidates[0]
    return template, func, kwargs, path_matched


_MEMORY_DB_LOCK = threading.Lock()


def _db_guard():
    """Tests run the live server on an in-memory SQLite database whose single connection is shared by every
    server thread: concurrent sandbox requests would interleave on it (sqlite3 "API misuse"). There, sandbox
    requests take turns; on a real database they run concurrently."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return _MEMORY_DB_LOCK
    return nullcontext()


# The simulated portal authenticates with API keys, not sessions; it takes resource and attachment uploads.
@accepts_upload(max_bytes=lambda: settings.PORTALADMIN_MAX_UPLOAD_BYTES, anonymous=True)
@csrf_exempt
@login_not_required
def api_view(request: HttpRequest, portal: str, rest: str) -> HttpResponse:
    from . import handlers  # noqa: F401  (registers the routes)

    path = "/" + rest
    template, func, kwargs, path_matched = _match(request.method, path)
    with _db_guard():
        early, sandbox = _admit(request, portal)
    if early is None and (sandbox.latency_ms or sandbox.latency_jitter_ms):
        time.sleep(_latency(sandbox))  # outside the guard: a slow portal does not slow the others
    with _db_guard():
        response = early
        if response is None:
            response = _fault(sandbox)
        if response is None:
            response = _handle(request, sandbox, path, template, func, kwargs, path_matched)
        lost = (sandbox is not None and request.method != "GET" and 200 <= response.status_code < 300
                and _draw(sandbox, "lost") < sandbox.lost_answer_rate)
        log_request(portal, request.method, template or "<unknown>", 599 if lost else response.status_code)
    if sandbox is not None:
        # The portal's own clock (whole seconds, as HTTP dates are): the reference a monitor may compare
        # `since` with.
        response["Date"] = http_date(clock.portal_now(sandbox).timestamp())
    if lost:
        return _lose_answer(request)
    return response


def _latency(portal: SandboxPortal) -> float:
    jitter = _rng(portal.seed, time.monotonic_ns(), "jitter").uniform(0, portal.latency_jitter_ms) \
        if portal.latency_jitter_ms else 0.0
    return (portal.latency_ms + jitter) / 1000


def _draw(portal: SandboxPortal, salt: str) -> float:
    """A reproducible draw for a fault that is off by default (no counter update while its rate is 0)."""
    if portal.lost_answer_rate <= 0:
        return 1.0
    SandboxPortal.objects.filter(pk=portal.pk).update(request_counter=F("request_counter") + 1)
    number = SandboxPortal.objects.values_list("request_counter", flat=True).get(pk=portal.pk)
    return _rng(portal.seed, number, salt).random()


def _lose_answer(request: HttpRequest) -> HttpResponse:
    """The write was applied; now break the connection so that the client never reads the answer.

    Under a real WSGI server the socket is reachable from the environ and is shut down (the client sees the
    connection drop); where it is not (Django's test client) a 502 without side effect on the client's side
    stands in for it, which a client must treat the same way: outcome unknown."""
    sock = request.environ.get("gunicorn.socket")
    stream = request.environ.get("wsgi.input")
    for attr in ("stream", "raw", "_sock"):
        if sock is not None:
            break
        stream = getattr(stream, attr, None)
        if attr == "_sock":
            sock = stream
    if sock is not None:
        import socket

        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    return ApiError(502, "bad_gateway", "The connection to the portal was lost.").response()


def _admit(request, portal_name) -> tuple[HttpResponse | None, SandboxPortal | None]:
    """(an early answer, or None and the portal): unknown portal, bad key."""
    try:
        portal = SandboxPortal.objects.get(name=portal_name)
    except SandboxPortal.DoesNotExist:
        return not_found().response(), None
    accepted, permissions = _authenticated(portal, _api_key(request))
    if not accepted:
        return ApiError(401, "unauthorized", "Authentication credentials were not provided or are invalid.").response(), None
    portal.key_permissions = permissions
    return None, portal


def _handle(request, portal, path, template, func, kwargs, path_matched) -> HttpResponse:
    permissions = portal.key_permissions
    if template and permissions is not None and "edit_domain" not in permissions:
        missing = required_permissions(request.method, template) - permissions
        if missing:
            return ApiError(403, "permission_denied", "You do not have permission to perform this action "
                            f"(missing: {', '.join(sorted(missing))}).").response()
    if func is None:
        if path_matched:
            return ApiError(405, "method_not_allowed", f'Method "{request.method}" not allowed.').response()
        if not path.endswith("/"):
            return ApiError(404, "not_found", "Not found. (Automation API paths end with '/')").response()
        return not_found().response()
    ctx = Ctx(request=request, portal=portal, now=clock.now())
    from .services import harvesters_settle
    harvesters_settle(portal, ctx.now)
    try:
        if request.method == "GET":  # reads take no write lock (SQLite IMMEDIATE transactions)
            result = func(ctx, **kwargs)
        else:
            with transaction.atomic():
                result = func(ctx, **kwargs)
    except ApiError as exc:
        return exc.response()
    except InvalidStatus as exc:
        return ApiError(400, exc.error_code, exc.message).response()
    except Exception:  # a sandbox bug still answers like the real API's 500, and is logged
        logger.exception("sandbox %s %s failed", request.method, template)
        return ApiError(500, "internal_error", "A server error occurred.").response()
    if isinstance(result, HttpResponse):
        return result
    status, body = result
    return JsonResponse(body, status=status, safe=False)
