"""Structured logging: request/job ids on every record and secrets redacted everywhere."""

import contextvars
import json
import logging
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
job_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("job_id", default="-")

# "Authorization: apikey XXX", "apikey=XXX", "'apikey': 'XXX'", "api_key=XXX" ...
_PATTERNS = [
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?\s*(?:apikey|bearer|token|basic)\s+)([^\s'\",;}]+)"),
    re.compile(r"(?i)((?:apikey|api_key|api-key)['\"]?\s*[:=]\s*['\"]?)([^\s'\"&,;}]+)"),
    re.compile(r"(?i)(\bapikey\s+)([^\s'\",;}]+)"),
]
REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8  # shorter values would redact ordinary words; real portal keys are far longer

# Portal API keys this process has handed to a client. A hostile or careless portal may echo the key bare,
# URL-encoded or inside any field (trace id, error code, a detail's keys); the patterns above only catch it
# after a recognisable word, so the keys themselves are looked for too (plain substring search: a regex
# alternation of many keys is ~20 times slower on a 3 MB answer). The set only grows with the connections
# this process talks to (a handful to a few hundred).
_secret_variants: tuple[str, ...] = ()
_secrets_lock = threading.Lock()


def _variants(secret: str) -> set[str]:
    encoded = {quote(secret, safe=""), quote_plus(secret)}
    lower_hex = {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), v) for v in encoded}
    return {secret} | encoded | lower_hex


def register_secret(secret: str) -> None:
    """Redact `secret` (and its URL-encoded forms) from every string that goes through redact()."""
    global _secret_variants
    if not secret or len(secret) < MIN_SECRET_LENGTH or secret in _secret_variants:
        return
    with _secrets_lock:
        # Longest first, so that a variant is never cut by a shorter one.
        _secret_variants = tuple(sorted(set(_secret_variants) | _variants(secret), key=len, reverse=True))


# Every pattern above needs one of these words: a string with none of them and no known key is left alone,
# which keeps redacting a 1,000-dataset answer cheap.
_TRIGGER = re.compile(r"(?i)authorization|api[_-]?key")


_TRIGGER_WORDS = ("authorization", "apikey", "api_key", "api-key")


def _has_trigger(text: str) -> bool:
    """_TRIGGER.search(text), faster on long ASCII text (a 1,000-user page: plain substring searches of the
    lower-cased text instead of a case-insensitive regex); any other text goes through the regex itself, whose
    Unicode case rules lower() does not always share."""
    if text.isascii():
        lowered = text.lower()
        return any(word in lowered for word in _TRIGGER_WORDS)
    return bool(_TRIGGER.search(text))


def needs_redaction(text: str) -> bool:
    return _has_trigger(text) or any(v in text for v in _secret_variants)


def redact(text: str) -> str:
    """The one redaction function: every string that comes from a portal goes through it before it is
    stored, logged, rendered or mailed (the client does it for everything it returns or raises)."""
    if not isinstance(text, str):
        text = str(text)
    if not needs_redaction(text):
        return text
    for variant in _secret_variants:
        if variant in text:
            text = text.replace(variant, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def redact_any(value: Any) -> Any:
    """redact() applied to every string of a decoded JSON value: dict keys and values, list items."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_any(k): redact_any(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_any(v) for v in value)
    return value


class RedactSecretsFilter(logging.Filter):
    """Render the message once, redact it, and drop args so handlers cannot re-render secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string should not drop the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


class ClientErrorOneLineFilter(logging.Filter):
    """django.request logs a refused request (403 PermissionDenied, 400 …) with the exception's traceback: for
    an answer the app gave on purpose that is noise (a viewer pressing an operator's button printed a traceback
    in the console). Keep one line, with the reason; 5xx keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500 and record.exc_info:
            reason = str(record.exc_info[1] or "").strip()
            if reason:
                record.msg = f"{record.getMessage()} ({reason})"
                record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.job_id = job_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "job_id": getattr(record, "job_id", "-"),
        }
        if record.exc_text:
            data["exc"] = record.exc_text
        return json.dumps(data)
