"""The client's exception family. Messages are redacted: an API key never appears in str() or repr()."""

from __future__ import annotations

from typing import Any

from portaladmin.core.logging import redact, redact_any


class PortalError(Exception):
    """Base of every failure talking to a portal."""

    retryable = False

    def __init__(self, message: str = "", *, status: int | None = None, error_code: str | None = None,
                 trace_id: str | None = None, detail: Any = None, method: str | None = None,
                 path: str | None = None):
        # Every field is redacted here too, whoever raises: the message, the identifiers and the detail (keys
        # and values) may all come from the portal, and all of them end up in pages, logs, audit rows or mail.
        self.message = redact(str(message or "The portal answered with an error."))
        self.status = status
        self.error_code = _redacted(error_code)
        self.trace_id = _redacted(trace_id)
        self.detail = redact_any(detail)
        self.method = method
        self.path = _redacted(path)
        super().__init__(self.message)

    def __str__(self) -> str:
        text = self.message
        if self.trace_id:
            text += f" (trace id {self.trace_id})"
        return text

    def __repr__(self) -> str:
        parts = [repr(self.message)]
        for name in ("status", "error_code", "trace_id", "method", "path"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r}")
        return redact(f"{type(self).__name__}({', '.join(parts)})")

    def __reduce__(self):  # picklable (Celery results, multiprocessing)
        return (_rebuild, (type(self), self.__dict__.copy()))


def _redacted(value: Any) -> str | None:
    return None if value is None else redact(str(value))


def _rebuild(cls, state):
    obj = cls.__new__(cls)
    Exception.__init__(obj, state.get("message", ""))
    obj.__dict__.update(state)
    return obj


class PortalUnavailable(PortalError):
    """Retryable: the portal could not be reached, timed out, failed (5xx) or rate-limited us (429)."""

    retryable = True

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kwargs):
        self.retry_after = retry_after
        super().__init__(message or "The portal is unavailable.", **kwargs)


class PortalTimeout(PortalUnavailable):
    pass


class PortalRateLimited(PortalUnavailable):
    pass


class PortalAuthError(PortalError):
    """401: the key is refused; 403: the key's user lacks a permission."""

    @property
    def is_permission(self) -> bool:
        return self.status == 403


class PortalNotFound(PortalError):
    pass


class PortalValidationError(PortalError):
    """400: the portal refused the input. `.detail` maps field names to lists of messages."""

    def field_errors(self) -> dict[str, list[str]]:
        return normalize_detail(self.detail)


class PortalConflict(PortalError):
    """The remote object is in a state that forbids the action (invalid_dataset_status, invalid_harvester_status)."""


class PortalBlockedAddress(PortalError):
    """The portal's host resolves to an address that is not globally routable (or does not resolve)."""


def normalize_detail(detail: Any) -> dict[str, list[str]]:
    """{field: [messages]} from whatever the portal sent in `detail` (dict, list or string)."""
    if detail is None:
        return {}
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, list | tuple):
                out[str(key)] = [redact(_flatten(v)) for v in value]
            else:
                out[str(key)] = [redact(_flatten(value))]
        return out
    if isinstance(detail, list | tuple):
        return {"__all__": [redact(_flatten(v)) for v in detail]}
    return {"__all__": [redact(str(detail))]}


def _flatten(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(_flatten(v) for v in value)
    return str(value)


__all__ = [
    "PortalError", "PortalUnavailable", "PortalTimeout", "PortalRateLimited", "PortalAuthError", "PortalNotFound",
    "PortalValidationError", "PortalConflict", "PortalBlockedAddress", "normalize_detail",
]
