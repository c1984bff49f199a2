"""Transport pieces under BaseClient: the timeout-enforcing session, the API key auth, the streamed
multipart body, Retry-After parsing, the private-network guard and settings with fallbacks."""

from __future__ import annotations

import email.utils
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from portaladmin.core import netguard

from .errors import PortalBlockedAddress

GUARD_TTL = 10.0  # seconds an address check is trusted

# Used only when Django settings are not configured (scripts, benchmarks); same values as settings.py.
FALLBACK_SETTINGS = {
    "PORTALS_CONNECT_TIMEOUT": 5.0,
    "PORTALS_READ_TIMEOUT": 30.0,
    "PORTALS_MAX_RETRIES": 3,
    "PORTALS_RETRY_AFTER_CAP": 10.0,
    "PORTALS_ALLOW_PRIVATE_NETWORKS": False,
    "PORTALS_USER_AGENT": "portaladmin/0.1",
}


def setting(name: str):
    try:
        return getattr(settings, name)
    except ImproperlyConfigured:
        return FALLBACK_SETTINGS[name]


class MissingTimeout(ValueError):
    """Raised by the session when asked to send a request without a timeout."""


class TimeoutRequiredSession(requests.Session):
    """A Session that refuses to send a request without an explicit (connect, read) timeout."""

    def send(self, request, **kwargs):
        timeout = kwargs.get("timeout")
        if timeout is None or (isinstance(timeout, tuple) and None in timeout):
            raise MissingTimeout("portal requests must carry a (connect, read) timeout")
        return super().send(request, **kwargs)


class ApiKeyAuth(requests.auth.AuthBase):
    """`Authorization: apikey <key>`; set as session.auth so a ~/.netrc can never replace it."""

    def __init__(self, key: str):
        self._key = key

    def __call__(self, request):
        request.headers["Authorization"] = f"apikey {self._key}"
        return request

    def __repr__(self) -> str:
        return "<ApiKeyAuth [redacted]>"


class MultipartFile:
    """A multipart/form-data body with one file field, read from disk block by block.

    requests' own `files=` encoder reads the whole file into memory; this object has a length (so a
    Content-Length is sent, no chunked encoding) and a `read(n)` that urllib3 calls block by block.
    """

    def __init__(self, field: str, fileobj: BinaryIO, filename: str, content_type: str):
        self.boundary = uuid.uuid4().hex
        safe_name = filename.replace('"', "%22").replace("\r", "").replace("\n", "")
        self._head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{safe_name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._file = fileobj
        self._file_size = _remaining_size(fileobj)
        self._parts: list[Any] = [self._head, fileobj, self._tail]
        self._buffer = b""

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self._head) + self._file_size + len(self._tail)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 64 * 1024  # never the whole file at once
        out = bytearray()
        while len(out) < size and self._parts:
            part = self._parts[0]
            if isinstance(part, bytes):
                take = part[: size - len(out)]
                out += take
                rest = part[len(take):]
                if rest:
                    self._parts[0] = rest
                else:
                    self._parts.pop(0)
            else:
                chunk = part.read(size - len(out))
                if not chunk:
                    self._parts.pop(0)
                else:
                    out += chunk
        return bytes(out)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            chunk = self.read(64 * 1024)
            if not chunk:
                return
            yield chunk


def _remaining_size(fileobj: BinaryIO) -> int:
    try:
        position = fileobj.tell()
    except (AttributeError, OSError):
        position = 0
    try:
        return os.fstat(fileobj.fileno()).st_size - position
    except (AttributeError, OSError, ValueError):
        end = fileobj.seek(0, os.SEEK_END)
        fileobj.seek(position)
        return end - position


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


_guard_cache: dict[tuple[str, int], tuple[float, str | None]] = {}
_guard_lock = threading.Lock()


def check_address(host: str, port: int) -> None:
    """Raise PortalBlockedAddress when host resolves to a private address (result cached briefly)."""
    key = (host.lower(), port)
    now = time.monotonic()
    with _guard_lock:
        cached = _guard_cache.get(key)
    if cached is None or cached[0] < now:
        try:
            netguard.check_host(host, port)
            problem = None
        except netguard.BlockedAddress as exc:
            problem = str(exc)
        cached = (now + GUARD_TTL, problem)
        with _guard_lock:
            _guard_cache[key] = cached
    if cached[1] is not None:
        raise PortalBlockedAddress(cached[1])


def clear_guard_cache() -> None:
    with _guard_lock:
        _guard_cache.clear()
