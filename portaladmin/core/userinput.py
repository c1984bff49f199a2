"""Parsers of typed-in text (JSON fields) that fail only with a message for the person, never with a 500.

json.loads raises more than JSONDecodeError on hostile text: RecursionError on deep nesting ("[" * 100000)
and ValueError on integers longer than Python's 4,300-digit conversion limit.
"""

from __future__ import annotations

import json
from typing import Any


class BadInput(ValueError):
    """The text cannot be used; str() is the message to show."""


def json_from_text(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
    except RecursionError:
        raise BadInput("Not accepted: the JSON is nested too deeply.") from None
    except ValueError as exc:  # e.g. an integer with more than 4,300 digits
        raise BadInput(f"Not valid JSON: {exc}.") from None
