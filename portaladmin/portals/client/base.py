"""HTTP plumbing shared by every endpoint mixin: session, timeouts, retries, errors, pagination.

Every call goes through `BaseClient._request`, which always passes a (connect, read) timeout; the session
class refuses to send anything without one, so a call without a timeout is impossible.
"""

from __future__ import annotations

import copy
import email.utils
import json as jsonlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

import requests

from portaladmin.core.logging import REDACTED, RedactSecretsFilter, needs_redaction, redact, register_secret

from .errors import (
    PortalAuthError,
    PortalBlockedAddress,
    PortalConflict,
    PortalError,
    PortalNotFound,
    PortalRateLimited,
    PortalTimeout,
    PortalUnavailable,
    PortalValidationError,
    normalize_detail,
)
from .schemas import Page
from .transport import (  # noqa: F401 - re-exported for callers and tests
    ApiKeyAuth,
    MissingTimeout,
    MultipartFile,
    PinnedAdapter,
    TimeoutRequiredSession,
    check_address,
    clear_guard_cache,
    parse_retry_after,
    setting,
)

logger = logging.getLogger("portaladmin.portals.client")
if not any(isinstance(f, RedactSecretsFilter) for f in logger.filters):
    logger.addFilter(RedactSecretsFilter())

T = TypeVar("T")

API_SUFFIX = "/api/automation/v1.0"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
CONFLICT_CODES = frozenset({"invalid_dataset_status", "invalid_harvester_status"})
BACKOFF_BASE = 0.25  # seconds; doubled per attempt, jittered, capped by PORTALS_RETRY_AFTER_CAP
MAX_PAGE = 1000

sleep = time.sleep  # patched in tests


@dataclass(frozen=True)
class AnswerClock:
    date: datetime | None  # the answer's Date header (the portal's clock), or None when absent or unreadable
    round_trip: float  # seconds, request sent → answer received


def parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


INTERRUPTS = frozenset({"SoftTimeLimitExceeded", "TimeLimitExceeded"})  # Celery's, by name (no celery import)


def worker_interrupt(exc: BaseException) -> BaseException | None:
    """A task time limit raised inside a socket read comes back wrapped by urllib3 as a connection error: find
    it, so that the engine treats it like the crash it is (an attempt spent) rather than a portal's hiccup."""
    seen: set[int] = set()
    todo: list = [exc]
    while todo:
        current = todo.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if type(current).__name__ in INTERRUPTS:
            return current
        todo.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        todo.extend(x for x in (current.__cause__, current.__context__) if x is not None)
    return None


def api_base_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    if not base.endswith(API_SUFFIX):
        base += API_SUFFIX
    return base


class BaseClient:
    """Session, request, retries and error mapping. Endpoint groups are mixins on top of it."""

    def __init__(self, *, base_url: str, api_key: str, timeout: tuple[float, float] | None = None,
                 user_agent: str | None = None, max_retries: int | None = None, allow_private: bool | None = None,
                 name: str = ""):
        if not api_key:
            raise ValueError("api_key is required")
        self.base_url = api_base_url(base_url)
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http(s) URL")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._base_path = parts.path
        self._api_key = api_key
        register_secret(api_key)  # whatever a portal echoes of it is redacted everywhere (core.logging.redact)
        if timeout is None:
            timeout = (setting("PORTALS_CONNECT_TIMEOUT"), setting("PORTALS_READ_TIMEOUT"))
        connect, read = timeout
        if not connect or not read or connect <= 0 or read <= 0:
            raise ValueError("timeout must be a (connect, read) pair of positive numbers")
        self.timeout: tuple[float, float] = (float(connect), float(read))
        self.user_agent = user_agent or setting("PORTALS_USER_AGENT")
        self._max_retries = max_retries
        self._allow_private = allow_private
        self.name = name or self._host
        self._session: TimeoutRequiredSession | None = None
        self._session_pid: int | None = None
        self._lock = threading.Lock()
        self._answers = threading.local()  # what the last answer in this thread said about the portal's clock

    def __repr__(self) -> str:
        return f"<PortalClient {self.base_url}>"

    # ------------------------------------------------------------------------------------------ session

    @property
    def session(self) -> TimeoutRequiredSession:
        pid = os.getpid()
        if self._session is None or self._session_pid != pid:
            with self._lock:
                if self._session is None or self._session_pid != pid:
                    self._session = self._new_session()
                    self._session_pid = pid
        return self._session

    def _new_session(self) -> TimeoutRequiredSession:
        session = TimeoutRequiredSession()
        session.auth = ApiKeyAuth(self._api_key)
        session.headers.update({"User-Agent": self.user_agent, "Accept": "application/json"})
        # Connects only to addresses the private-network guard checked (DNS rebinding), even the sandbox's.
        adapter = PinnedAdapter(allow_private=lambda: self.allow_private, pool_connections=1, pool_maxsize=10,
                                max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def single_attempt(self):
        """This client (same session and connection pool) making exactly one attempt per call.

        For callers that count their requests against a budget (the status scan): a 429 or 5xx comes back at
        once instead of being retried, and the caller pauses or resumes later itself.
        """
        self.session  # noqa: B018 - created here so that the copy shares it (and its pool)
        clone = copy.copy(self)
        clone._max_retries = 0
        return clone

    def close(self) -> None:
        if self._session is not None and self._session_pid == os.getpid():
            self._session.close()
        self._session = None

    # ------------------------------------------------------------------------------------------ settings

    @property
    def max_retries(self) -> int:
        return setting("PORTALS_MAX_RETRIES") if self._max_retries is None else self._max_retries

    @property
    def allow_private(self) -> bool:
        return setting("PORTALS_ALLOW_PRIVATE_NETWORKS") if self._allow_private is None else self._allow_private

    # ------------------------------------------------------------------------------------------ requests

    @staticmethod
    def path(*segments: Any) -> str:
        """'/datasets/da_1/status/' from ('datasets', 'da_1', 'status'); each segment is URL-quoted."""
        return "/" + "/".join(quote(str(s), safe="") for s in segments) + "/"

    def _scrub(self, text: str) -> str:
        """Every string from the portal, before anything else sees it: this client's key (even a short one that
        the shared redaction does not look for), then core.logging.redact."""
        text = str(text)
        return redact(text.replace(self._api_key, REDACTED) if self._api_key and text else text)

    def _request(self, method: str, path: str, *, params: dict | None = None, json: Any = None,
                 data: Any = None, headers: dict | None = None, stream: bool = False) -> requests.Response:
        """Send one call (with retries for idempotent methods); return the 2xx response or raise PortalError."""
        method = method.upper()
        if not path.endswith("/"):
            path += "/"
        url = self.base_url + path
        params = _clean_params(params)
        attempts = 1 + (max(0, self.max_retries) if method in IDEMPOTENT else 0)
        for attempt in range(attempts):
            outcome, retryable = self._attempt(method, path, url, params=params, json=json, data=data,
                                               headers=headers, stream=stream)
            if isinstance(outcome, requests.Response):
                return outcome
            if retryable and attempt < attempts - 1:
                delay = self._delay(attempt, getattr(outcome, "retry_after", None))
                logger.info("portal %s %s %s retry %d/%d in %.2fs (%s)", self.name, method, path, attempt + 1,
                            attempts - 1, delay, outcome.status or type(outcome).__name__)
                sleep(delay)
                continue
            raise outcome
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, method, path, url, *, params, json, data, headers, stream):
        if not self.allow_private:
            try:
                check_address(self._host, self._port)
            except PortalBlockedAddress as exc:
                exc.method, exc.path = method, path
                raise
        started = time.monotonic()
        try:
            response = self.session.request(
                method, url, params=params, json=json, data=data, headers=headers, timeout=self.timeout,
                allow_redirects=False, stream=stream,
            )
        except PortalBlockedAddress as exc:  # the name changed to a refused address since the check above
            exc.method, exc.path = method, path
            raise
        except requests.exceptions.ConnectTimeout:
            return self._log_failure(method, path, started, PortalTimeout(
                f"Timed out connecting to {self.name}.", method=method, path=path)), True
        except requests.exceptions.Timeout:  # read timeout: the portal may still be working, do not repeat
            return self._log_failure(method, path, started, PortalTimeout(
                f"{self.name} did not answer in time.", method=method, path=path)), False
        except requests.exceptions.SSLError:  # a certificate problem does not fix itself: no retry
            return self._log_failure(method, path, started, PortalUnavailable(
                f"TLS error talking to {self.name} (certificate or protocol problem).", method=method,
                path=path)), False
        except requests.exceptions.ConnectionError as exc:
            if (interrupt := worker_interrupt(exc)) is not None:
                raise interrupt from None  # the worker's time limit, not the portal: never a "temporary failure"
            return self._log_failure(method, path, started, PortalUnavailable(
                f"Could not connect to {self.name}.", method=method, path=path)), True
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            if (interrupt := worker_interrupt(exc)) is not None:
                raise interrupt from None
            return self._log_failure(method, path, started, PortalUnavailable(
                f"{self.name} broke off its answer.", method=method, path=path)), True
        except requests.exceptions.RequestException as exc:
            raise PortalError(f"Request to {self.name} failed: {type(exc).__name__}.", method=method,
                              path=path) from None
        elapsed = (time.monotonic() - started) * 1000
        self._answers.last = AnswerClock(date=parse_http_date(response.headers.get("Date")), round_trip=elapsed / 1000)
        level = logging.WARNING if response.status_code >= 500 or response.status_code == 429 else logging.INFO
        logger.log(level, "portal %s %s %s %s %.0fms", self.name, method, path, response.status_code, elapsed)
        if 200 <= response.status_code < 300:
            return response, False
        try:
            return self._error_from(response, method, path), response.status_code in RETRY_STATUSES
        finally:
            response.close()

    def last_answer_clock(self) -> AnswerClock:
        """The portal's clock as its last answer in this thread stated it (the `Date` header, whole seconds)
        and that request's round trip: the reference for comparing the portal's own timestamps (FACTS.md)."""
        return getattr(self._answers, "last", None) or AnswerClock(date=None, round_trip=0.0)

    def _log_failure(self, method, path, started, error):
        elapsed = (time.monotonic() - started) * 1000
        logger.warning("portal %s %s %s failed after %.0fms: %s", self.name, method, path, elapsed, error.message)
        return error

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        cap = float(setting("PORTALS_RETRY_AFTER_CAP"))
        if retry_after is not None:
            return min(max(0.0, retry_after), cap)
        backoff = min(cap, BACKOFF_BASE * (2 ** attempt))
        # Jitter spreads retries out; it has nothing to do with security.
        return backoff / 2 + random.uniform(0, backoff / 2)  # nosec B311

    def _error_from(self, response: requests.Response, method: str, path: str) -> PortalError:
        status = response.status_code
        body = _json_or_none(response)
        error_code = message = trace_id = None
        detail: Any = None
        if isinstance(body, dict):
            error_code = body.get("error_code") or body.get("error_key")
            message = body.get("message") or body.get("raw_message")
            raw_detail = body.get("detail")
            if isinstance(raw_detail, str) and not message:
                message = raw_detail
            elif raw_detail is not None and not isinstance(raw_detail, str):
                detail = raw_detail
            trace_id = body.get("trace_id")
        # Every field the portal chose is scrubbed: a hostile portal may echo our Authorization header anywhere.
        message = self._scrub(message) if message else f"{self.name} answered {status} {response.reason or ''}".strip()
        if detail is not None:
            detail = _scrub_any(detail, self._scrub)
        error_code = None if error_code is None else self._scrub(error_code)
        trace_id = None if trace_id is None else self._scrub(trace_id)
        kwargs = dict(status=status, error_code=error_code, trace_id=trace_id, method=method, path=path)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429:
            return PortalRateLimited(message, retry_after=retry_after, detail=detail, **kwargs)
        if status >= 500:
            return PortalUnavailable(message, retry_after=retry_after, detail=detail, **kwargs)
        if status in (401, 403):
            return PortalAuthError(message, detail=detail, **kwargs)
        if status == 404:
            return PortalNotFound(message, detail=detail, **kwargs)
        if status == 409 or (error_code in CONFLICT_CODES):
            return PortalConflict(message, detail=detail, **kwargs)
        if status in (400, 422):
            return PortalValidationError(message, detail=normalize_detail(detail), **kwargs)
        if 300 <= status < 400:
            return PortalError(f"{self.name} answered an unexpected redirect ({status}); check the connection URL.",
                               detail=None, **kwargs)
        return PortalError(message, detail=detail, **kwargs)

    # ------------------------------------------------------------------------------------------ helpers

    def _call(self, method: str, path: str, *, params: dict | None = None, json: Any = None) -> Any:
        """JSON in, JSON out (None for an empty body, e.g. 204)."""
        response = self._request(method, path, params=params, json=json)
        return self._decode(response, method, path)

    def _decode(self, response: requests.Response, method: str, path: str) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            text = response.content.decode("utf-8")
            data = jsonlib.loads(text)
        except ValueError:  # not UTF-8, a BOM, or not JSON: requests' own encoding detection decides
            text = None
            try:
                data = response.json()
            except ValueError:
                raise PortalError(f"{self.name} answered {response.status_code} with a body that is not JSON.",
                                  status=response.status_code, method=method, path=path) from None
        # Every string of every answer (names, messages, per-row results) is redacted before it is returned.
        # One look at the whole answer first (decoded, so \u escapes cannot hide a key): usually nothing to do.
        # A body without any backslash has no escape at all: its strings are those of the decoded answer, so it
        # is looked at as it came (re-encoding a 1,000-user page for the look cost as much as parsing it).
        whole = text if text is not None and "\\" not in text else jsonlib.dumps(data, ensure_ascii=False)
        if needs_redaction(whole) or self._api_key in whole:
            data = _scrub_any(data, self._scrub)
        return data

    def _get(self, path: str, params: dict | None = None) -> Any:
        return self._call("GET", path, params=params)

    def _post(self, path: str, json: Any = None, params: dict | None = None) -> Any:
        return self._call("POST", path, json=json, params=params)

    def _put(self, path: str, json: Any) -> Any:
        return self._call("PUT", path, json=json)

    def _delete(self, path: str, params: dict | None = None) -> Any:
        return self._call("DELETE", path, params=params)

    def _upload(self, path: str, fileobj: BinaryIO, *, filename: str | None, content_type: str,
                fields: dict[str, str] | None = None) -> Any:
        name = filename or os.path.basename(getattr(fileobj, "name", "") or "") or "upload"
        body = MultipartFile("file", fileobj, name, content_type, fields=fields)
        response = self._request("POST", path, data=body, headers={"Content-Type": body.content_type})
        return self._decode(response, "POST", path)

    def _stream(self, path: str, params: dict | None, chunk_size: int) -> Iterator[bytes]:
        response = self._request("GET", path, params=params, stream=True, headers={"Accept": "*/*"})

        def chunks() -> Iterator[bytes]:
            try:
                yield from response.iter_content(chunk_size=chunk_size)
            except requests.exceptions.RequestException:
                raise PortalUnavailable(f"{self.name} stopped sending the download.", method="GET",
                                        path=path) from None
            finally:
                response.close()

        return chunks()

    # ------------------------------------------------------------------------------------------ pagination

    def _page(self, path: str, item: Callable[[Any], T], params: dict | None = None, *,
              limit: int | None = 20, offset: int | None = 0) -> Page[T]:
        params = dict(params or {})
        if limit is not None:
            if not 0 <= limit <= MAX_PAGE:
                raise ValueError(f"limit must be between 0 and {MAX_PAGE}")
            params["limit"] = limit
        if offset is not None:
            if offset < 0:
                raise ValueError("offset must be >= 0")
            params["offset"] = offset
        return Page.from_dict(self._get(path, params), item)

    def _iter(self, path: str, item: Callable[[Any], T], params: dict | None = None, *,
              page_size: int = MAX_PAGE) -> Iterator[T]:
        """Every item of a paginated list, page by page.

        A portal's `total_count` is a hint, not a promise: the walk stops on `next: null`, on an empty page, on
        a short page without a `next` link, and in any case after ceil(first total_count / first page) + 1
        pages, so a portal announcing a huge count with a short last page cannot make it loop.
        """
        page_size = max(1, min(MAX_PAGE, page_size))
        offset = 0
        max_pages: int | None = None
        pages = 0
        while True:
            page = self._page(path, item, params, limit=page_size, offset=offset)
            pages += 1
            yield from page.results
            offset += len(page.results)
            if not page.results:
                return
            if max_pages is None:
                per_page = len(page.results)
                max_pages = -(-max(page.total_count, per_page) // per_page) + 1
            if pages >= max_pages:
                logger.warning("portal %s GET %s: stopped after %d pages (the first answer announced %d items)",
                               self.name, path, pages, page.total_count)
                return
            if "next" in page.raw and not page.next:
                return
            if len(page.results) < page_size and not page.next:
                return
            if "total_count" in page.raw and offset >= page.total_count:
                return

    def _page_all(self, path: str, item: Callable[[Any], T], params: dict | None = None, *,
                  max_pages: int = 1000) -> Page[T]:
        """For lists whose spec operation takes no limit/offset: follow the portal's `next` links (only
        when they stay under this client's base URL) and return every item in one Page."""
        first = self._get(path, params)
        page = Page.from_dict(first, item)
        results = list(page.results)
        next_url = page.next
        for _ in range(max_pages):
            if not next_url:
                break
            next_path, next_params = self._same_origin(next_url)
            if next_path is None:
                logger.warning("portal %s GET %s: ignoring a next link outside the API base", self.name, path)
                break
            following = Page.from_dict(self._get(next_path, next_params), item)
            if not following.results:
                break
            results.extend(following.results)
            next_url = following.next
        return Page(total_count=max(page.total_count, len(results)), next=None, previous=None, results=results,
                    raw=page.raw)

    def _same_origin(self, url: str) -> tuple[str | None, dict | None]:
        parts = urlsplit(url)
        base = urlsplit(self.base_url)
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(
                self._base_path + "/"):
            return None, None
        return parts.path[len(self._base_path):], parse_qs(parts.query) or None

    def _count(self, path: str, params: dict | None = None) -> int:
        return self._page(path, lambda x: x, params, limit=0, offset=None).total_count


def _clean_params(params: dict | None) -> dict | None:
    if not params:
        return None
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list | tuple | set | frozenset):
            values = [str(v) for v in value]
            if values:
                out[key] = values
        else:
            out[key] = value
    return out or None


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _scrub_any(value: Any, scrub: Callable[[str], str]) -> Any:
    """`scrub` applied to every string of a decoded JSON value, dict keys included."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(k) if isinstance(k, str) else k: _scrub_any(v, scrub) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_any(v, scrub) for v in value]
    return value


def every_item[T](list_call: Callable[..., Page[T]], key: str, *, page_size: int = 100) -> list[T]:
    """Every item of a per-object list method that takes (key, limit=, offset=), e.g. a page's rulesets.

    Bounded like BaseClient._iter: the first total_count caps the walk at ceil(total / page) + 1 pages,
    so a portal announcing a huge count with a short last page cannot make it loop.
    """
    found: list[T] = []
    offset = 0
    max_pages = None
    for pages in range(1, 10_000):
        page = list_call(key, limit=page_size, offset=offset)
        found.extend(page.results)
        offset += page_size
        if max_pages is None:
            max_pages = -(-max(page.total_count, 1) // page_size) + 1
        if not page.has_next or not page.results or offset >= page.total_count or pages >= max_pages:
            break
    return found
