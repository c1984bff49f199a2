"""Transport pieces under BaseClient: the timeout-enforcing session, the API key auth, the streamed
multipart body, Retry-After parsing, the private-network guard with its address-pinning adapter, and
settings with fallbacks."""

from __future__ import annotations

import email.utils
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from portaladmin.core import netguard

from .errors import PortalBlockedAddress

GUARD_TTL = 10.0  # seconds a resolved and checked address list is reused

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

    def __init__(self, field: str, fileobj: BinaryIO, filename: str, content_type: str,
                 fields: dict[str, str] | None = None):
        self.boundary = uuid.uuid4().hex
        safe_name = filename.replace('"', "%22").replace("\r", "").replace("\n", "")
        # Plain form fields (e.g. an alternative export's title) travel before the file part.
        plain = "".join(
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{_safe(name)}"\r\n\r\n{value}\r\n'
            for name, value in (fields or {}).items())
        self._head = (
            plain + f"--{self.boundary}\r\n"
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


def _safe(name: str) -> str:
    return name.replace('"', "%22").replace("\r", "").replace("\n", "")


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


_guard_cache: dict[tuple[str, int, bool], tuple[float, str | None, list[tuple[int, tuple]]]] = {}
_guard_lock = threading.Lock()


def pinned_addresses(host: str, port: int, *, allow_private: bool = False) -> list[tuple[int, tuple]]:
    """The (family, socket address) pairs to connect to for host:port: resolved once, checked against the
    private-network guard unless allow_private, and trusted for GUARD_TTL seconds.

    Raises PortalBlockedAddress when the guard refuses the name (or it cannot be resolved). Connections are
    opened to exactly these addresses (PinnedAdapter), so a name that answers differently a moment later
    (DNS rebinding) cannot send a request anywhere the guard did not see.
    """
    host = host.strip("[]").lower()
    key = (host, port, allow_private)
    now = time.monotonic()
    with _guard_lock:
        cached = _guard_cache.get(key)
    if cached is None or cached[0] <= now:
        addresses: list[tuple[int, tuple]] = []
        try:
            addresses = netguard.resolve(host, port)
            if not allow_private:
                netguard.check_addresses(host, addresses)
            problem = None
        except netguard.BlockedAddress as exc:
            addresses, problem = [], str(exc)
        cached = (now + GUARD_TTL, problem, addresses)
        if problem is None or not allow_private:  # a failed lookup of an allowed host is retried next time
            with _guard_lock:
                _guard_cache[key] = cached
    if cached[1] is not None:
        raise PortalBlockedAddress(cached[1])
    return cached[2]


def check_address(host: str, port: int) -> None:
    """Raise PortalBlockedAddress when host resolves to an address that is not public (result cached briefly)."""
    pinned_addresses(host, port, allow_private=False)


def clear_guard_cache() -> None:
    with _guard_lock:
        _guard_cache.clear()


class _PinnedConnection:
    """Mixed into urllib3's HTTP(S)Connection: open the socket to the checked addresses of self.host.

    self.host itself is left alone, so the Host header, TLS SNI and certificate verification all use the
    portal's name; only the TCP connect goes to the pinned IP.
    """

    allow_private: Callable[[], bool]

    def _new_conn(self) -> socket.socket:
        try:
            addresses = pinned_addresses(self.host, self.port, allow_private=self.allow_private())
        except PortalBlockedAddress as exc:
            if not self.allow_private():
                raise  # refused: _attempt turns it into the client's error, nothing was sent
            raise NameResolutionError(self.host, self, socket.gaierror(str(exc))) from None
        error: OSError | None = None
        for family, sockaddr in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                if self.timeout is None or isinstance(self.timeout, int | float):
                    sock.settimeout(self.timeout)
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        if isinstance(error, TimeoutError):
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})")
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")


class PinnedAdapter(HTTPAdapter):
    """An HTTPAdapter whose connection pools connect only to addresses the guard checked (see above)."""

    def __init__(self, *, allow_private: Callable[[], bool], **kwargs):
        self._allow_private = allow_private
        super().__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        policy = {"allow_private": staticmethod(self._allow_private)}
        http = type("PinnedHTTPConnection", (_PinnedConnection, HTTPConnection), policy)
        https = type("PinnedHTTPSConnection", (_PinnedConnection, HTTPSConnection), policy)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("PinnedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("PinnedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }
