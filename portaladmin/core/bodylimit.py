"""Request bodies are measured before anything reads them.

Django reads a POST body as soon as someone asks for request.POST, and CsrfViewMiddleware asks before any
view or log-in check runs; file parts over FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file. So the limits
are applied here, from Content-Length, in a middleware __call__ (all of which run before any process_view):

- anonymous requests: ANONYMOUS_MAX_BODY (a log-in form is a few hundred bytes);
- logged-in requests to ordinary routes: DATA_UPLOAD_MAX_MEMORY_SIZE, and file parts are dropped unread into
  nothing (never a temporary file);
- upload routes (views marked with @accepts_upload): their own limit, and only for people the view would let in:
  the view's access check (`check_access`, set by portals' connection_view) runs first, so an outsider or a
  viewer is refused before a byte of the upload is read.
A body that is too large gets 413 with a message saying the limit.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.datastructures import MultiValueDict

ANONYMOUS_MAX_BODY = 64 * 1024


def accepts_upload(*, max_bytes: Callable[[], int], anonymous: bool = False):
    """Mark a view as taking file uploads of up to max_bytes() (plus the ordinary form-field limit).
    anonymous=True only for views that authenticate otherwise (the sandbox's API keys)."""

    def decorator(view):
        view.accepts_upload = (max_bytes, anonymous)
        return view

    return decorator


class _NoFiles(FileUploadHandler):
    """Off upload routes a file part is skipped: read from the (already size-checked) body, never stored."""

    def new_file(self, *args, **kwargs):
        raise SkipFile()

    def receive_data_chunk(self, raw_data, start):  # pragma: no cover - never called after SkipFile
        return None

    def file_complete(self, file_size):  # pragma: no cover
        return None


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            refusal = self.refusal(request)
        except Exception:  # Http404 / PermissionDenied from the view's access check
            _leave_body_unread(request)  # the 403/404 pages read request.POST (requires_csrf_token)
            raise
        if refusal is not None:
            _leave_body_unread(request)
            return refusal
        return self.get_response(request)

    def refusal(self, request) -> HttpResponse | None:
        length = _content_length(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        upload = getattr(match.func, "accepts_upload", None) if match else None
        if upload is None:
            request.upload_handlers = [_NoFiles(request)]
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if request.user.is_authenticated else ANONYMOUS_MAX_BODY
            return too_large(request, limit) if length > limit else None
        max_bytes, anonymous = upload
        if not anonymous:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            check = getattr(match.func, "check_access", None)
            if check is not None:
                check(request, *match.args, **match.kwargs)  # raises Http404 / PermissionDenied as the view would
        if length > max_bytes() + settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return too_large(request, max_bytes())
        return None


def _leave_body_unread(request) -> None:
    """Whoever asks for request.POST / FILES from now on gets empty ones; the body stays unread."""
    request._post, request._files = QueryDict(), MultiValueDict()


def too_large(request, limit: int) -> HttpResponse:
    size = f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return render(request, "413.html", {"limit": size}, status=413)


def _content_length(request) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0  # Django reads nothing either
