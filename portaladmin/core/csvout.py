"""The one CSV writer of the project: every export goes through it, so none can carry a spreadsheet formula.

CSV injection (OWASP): a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a
formula by Excel, LibreOffice or Google Sheets when the file is opened. Such a cell gets a leading single
quote, which spreadsheets show as text and never evaluate.

The rule chosen for numbers: values that *we* generate as Python numbers (int, float, Decimal: counts, line
numbers, job ids) are written as they are, so `-3` stays a number. Every string is neutralised, whatever its
origin, including a string that looks like a number (a portal's "-3" is written `'-3`): text cannot be told
apart from a payload such as `-1+cmd|' /C calc'!A0` by looking at it, so text is never trusted.

`csv_response` writes a whole (small) download at once; `csv_streaming_response` yields row by row for
exports of any size (StreamingHttpResponse). `csv_reparse` reads a CSV we did not write (the portal's user
export) so that it can be rewritten through the same writer.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPE = "text/csv; charset=utf-8"


def safe_cell(value) -> str | int | float | Decimal:
    """One cell, formula-safe (see the module docstring for the rule)."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write() returns the line: the csv module then formats one row at a time."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable], *, delimiter: str = ",") -> Iterator[str]:
    """Each row as one formatted CSV line (\\r\\n terminated), every cell made safe."""
    writer = csv.writer(_Echo(), delimiter=delimiter)
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def csv_text(rows: Iterable[Iterable], *, delimiter: str = ",") -> str:
    return "".join(csv_lines(rows, delimiter=delimiter))


def _disposition(filename: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", filename) or "export.csv"
    return f'attachment; filename="{safe}"'


def csv_response(rows: Iterable[Iterable], *, filename: str, delimiter: str = ",") -> HttpResponse:
    response = HttpResponse(csv_text(rows, delimiter=delimiter), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = _disposition(filename)
    return response


def csv_streaming_response(rows: Iterable[Iterable], *, filename: str, delimiter: str = ",") -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(rows, delimiter=delimiter), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = _disposition(filename)
    return response


def _text_lines(chunks: Iterable[bytes], encoding: str) -> Iterator[str]:
    """Decoded lines (with their endings) from byte chunks cut anywhere, even inside a character."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def csv_reparse(chunks: Iterable[bytes], *, delimiter: str = ",", encoding: str = "utf-8-sig") -> Iterator[list[str]]:
    """The rows of a CSV received as byte chunks (quoted values may span lines), read as it arrives."""
    return csv.reader(_text_lines(chunks, encoding), delimiter=delimiter)
