"""Parsing and validating the rows of a bulk invite (pasted e-mails, pasted CSV text or an uploaded CSV file).

Nothing here talks to a portal: the caller passes the portal's group list (and the known permissions),
and every row is checked before anything is sent. A row is either valid (its `payload` is exactly what
will be POSTed to /users/invite/) or rejected with human-readable reasons.

Accepted input:
- one e-mail per line (paste);
- CSV text with a header row (paste or upload): columns email, first_name, last_name, groups, permissions
  (only `email` is required), UTF-8 with or without BOM, `,` or `;` sniffed from the header line;
  several groups or permissions in one cell are separated by `|`, `;` or `,` (quote the cell
  when the separator is also the CSV delimiter).
Empty lines (and lines with only delimiters) are skipped.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

COLUMNS = ("email", "first_name", "last_name", "groups", "permissions")
REQUIRED_COLUMNS = ("email",)
MAX_ROWS = 20_000
MAX_NAME_LENGTH = 150

# The portal's permission names (components/schemas/Permission in the Automation API spec).
PERMISSIONS = (
    "edit_domain", "create_page", "edit_page", "manage_page", "explore_restricted_page", "create_dataset",
    "edit_dataset", "publish_dataset", "manage_dataset", "explore_restricted_dataset", "edit_reuse",
    "manage_subdomains", "explore_monitoring", "edit_theme", "edit_form", "submit_private_form",
)

_LIST_SPLIT = re.compile(r"[|;,]")
_email_validator = EmailValidator()


class InputError(ValueError):
    """The input as a whole cannot be read (encoding, header, size): nothing is previewed."""


@dataclass
class Row:
    line: int  # line number in the input (1-based), for the person fixing the file
    email: str
    first_name: str = ""
    last_name: str = ""
    groups: list[str] = field(default_factory=list)  # group uids (titles are resolved to uids)
    permissions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def payload(self) -> dict:
        """The user object sent to POST /users/invite/ for this row."""
        body: dict = {"email": self.email}
        if self.first_name:
            body["first_name"] = self.first_name
        if self.last_name:
            body["last_name"] = self.last_name
        if self.groups:
            body["groups"] = [{"uid": uid} for uid in self.groups]
        if self.permissions:
            body["permissions"] = list(self.permissions)
        return body

    def as_dict(self) -> dict:
        return {"line": self.line, "email": self.email, "first_name": self.first_name, "last_name": self.last_name,
                "groups": list(self.groups), "permissions": list(self.permissions), "errors": list(self.errors)}


@dataclass
class ParseResult:
    rows: list[Row] = field(default_factory=list)
    skipped_lines: int = 0  # empty lines
    source: str = ""  # "emails" | "csv"
    delimiter: str = ""

    @property
    def valid_rows(self) -> list[Row]:
        return [r for r in self.rows if r.valid]

    @property
    def rejected_rows(self) -> list[Row]:
        return [r for r in self.rows if not r.valid]


# --- decoding -------------------------------------------------------------------------------------------

def decode_upload(data: bytes) -> str:
    """UTF-8 with or without BOM; anything else is refused with a message that says how to fix it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"The file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line} cannot be read). "
            "Save it as “CSV UTF-8” (Excel: File › Save as › CSV UTF-8) and upload it again."
        ) from None
    if "\x00" in text:
        raise InputError("The file looks binary (or UTF-16), not UTF-8 CSV text. Save it as “CSV UTF-8”.")
    return text


def sniff_delimiter(line: str) -> str:
    """`;` when the header line has more semicolons than commas (outside quotes), `,` otherwise."""
    unquoted = re.sub(r'"[^"]*"', "", line)
    return ";" if unquoted.count(";") > unquoted.count(",") else ","


# --- parsing --------------------------------------------------------------------------------------------

def parse_text(text: str, *, known_groups: dict[str, dict[str, str]] | None = None,
               permissions: Iterable[str] = PERMISSIONS) -> ParseResult:
    """Parse pasted text or decoded file content. See the module docstring for the formats.

    `known_groups` maps a connection name to its group index (`group_index`): every group of a row must
    exist on every connection the list is sent to. None skips the group check.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip().strip(",;").strip()), "")
    if not first:
        raise InputError("There is nothing to invite: the input is empty.")
    delimiter = sniff_delimiter(first)
    try:
        header = [c.strip().lower() for c in next(csv.reader([first], delimiter=delimiter))]
    except csv.Error as exc:
        raise InputError(_csv_problem(exc, 1)) from None
    looks_like_header = not any("@" in cell for cell in header)
    if len(header) > 1 and not looks_like_header:
        raise InputError(
            "The first line must be a header naming the columns (email, first_name, last_name, groups, "
            "permissions), or give one e-mail per line."
        )
    if len(header) > 1 or header[0] in ("email", "e-mail", "e_mail"):
        result = _parse_csv(text, delimiter)
    else:
        result = _parse_emails(lines)
    _validate(result.rows, known_groups=known_groups, permissions=set(permissions))
    return result


def parse_upload(data: bytes, **kwargs) -> ParseResult:
    text = decode_upload(data)
    return parse_text(text, **kwargs)


def _parse_emails(lines: list[str]) -> ParseResult:
    result = ParseResult(source="emails")
    for number, line in enumerate(lines, start=1):
        value = line.strip()
        if not value:
            result.skipped_lines += 1
            continue
        result.rows.append(Row(line=number, email=value))
        if len(result.rows) > MAX_ROWS:
            raise InputError(f"Too many rows: at most {MAX_ROWS:,} per invite. Split the list.")
    return result


def _parse_csv(text: str, delimiter: str) -> ParseResult:
    result = ParseResult(source="csv", delimiter=delimiter)
    # newline=None: "\r" alone (old Mac exports) ends a line too, instead of failing the csv module.
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter, strict=False)
    try:
        _read_csv_rows(reader, result, delimiter)
    except csv.Error as exc:  # a value over the csv module's 128 KiB limit, a bare carriage return...
        raise InputError(_csv_problem(exc, max(reader.line_num, 1))) from None
    return result


def _csv_problem(exc: csv.Error, line: int) -> str:
    if "field larger than field limit" in str(exc):
        return (f"A value ending near line {line:,} is longer than 128 KiB: is a quote (\") opened and never "
                "closed? Nothing was sent; fix the file and try again.")
    return f"The CSV cannot be read near line {line:,} ({exc}). Nothing was sent; fix the file and try again."


def _read_csv_rows(reader, result: ParseResult, delimiter: str) -> None:
    header: list[str] | None = None
    last_line = 0
    for cells in reader:
        first_line, last_line = last_line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            result.skipped_lines += 1
            continue
        if header is None:
            header = _check_header(cells)
            continue
        row = Row(line=first_line, email="")
        values = [c.strip() for c in cells]
        if len(values) > len(header) and any(values[len(header):]):
            extra = len(values) - len(header)
            row.errors.append(f"{extra} value(s) more than the {len(header)} columns of the header "
                              f"(an unquoted “{delimiter}” inside a value?).")
        elif len(values) < len(header):
            missing = ", ".join(header[len(values):])
            row.errors.append(f"Missing value(s) for {missing}: the row has {len(values)} of "
                              f"{len(header)} columns.")
        if last_line > first_line and any("\n" in v or "\r" in v for v in values):
            row.errors.append(f"A value runs from line {first_line} to line {last_line}: is a quote (\") "
                              "opened and never closed? The lines in between were read as that value.")
        data = dict(zip(header, values, strict=False))
        row.email = data.get("email", "")
        row.first_name = data.get("first_name", "")
        row.last_name = data.get("last_name", "")
        row.groups = _split_list(data.get("groups", ""))
        row.permissions = _split_list(data.get("permissions", ""))
        result.rows.append(row)
        if len(result.rows) > MAX_ROWS:
            raise InputError(f"Too many rows: at most {MAX_ROWS:,} per invite. Split the file.")


def _check_header(cells: list[str]) -> list[str]:
    names = [c.strip().lower().replace("-", "_").replace(" ", "_") for c in cells]
    names = ["email" if n == "e_mail" else n for n in names]
    while names and names[-1] == "":  # a trailing delimiter on the header line
        names.pop()
    unknown = [n or "(empty)" for n in names if n not in COLUMNS]
    if unknown:
        raise InputError(f"Unknown column(s): {', '.join(unknown)}. Allowed columns: {', '.join(COLUMNS)}.")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise InputError(f"Missing column(s): {', '.join(missing)}. The header must name an “email” column.")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(f"Column(s) named twice in the header: {', '.join(duplicated)}.")
    return names


def _split_list(value: str) -> list[str]:
    return [v.strip() for v in _LIST_SPLIT.split(value) if v.strip()]


# --- validation -----------------------------------------------------------------------------------------

def group_index(groups: Iterable) -> dict[str, str]:
    """{lower-cased uid or title: uid} from Group objects (or dicts with uid/title)."""
    index: dict[str, str] = {}
    for group in groups:
        uid = group["uid"] if isinstance(group, dict) else group.uid
        title = (group.get("title") if isinstance(group, dict) else group.title) or ""
        if title:
            index.setdefault(title.strip().lower(), uid)
    for group in groups:
        uid = group["uid"] if isinstance(group, dict) else group.uid
        index[uid.lower()] = uid  # a uid wins over another group's title
    return index


def valid_email(value: str) -> bool:
    if not value or len(value) > 254 or any(ch.isspace() for ch in value):
        return False
    try:
        _email_validator(value)
    except ValidationError:
        return False
    return True


def _resolve_groups(row: Row, known_groups: dict[str, dict[str, str]]) -> None:
    """Group uids or titles → uids; unknown on any target connection, or ambiguous across them, is an error."""
    several = len(known_groups) > 1
    resolved: list[str] = []
    ok = True
    for group in row.groups:
        uids = set()
        for name, index in known_groups.items():
            uid = index.get(group.lower())
            if uid is None:
                ok = False
                row.errors.append(f"Unknown group “{group}”" + (f" on {name}." if several else "."))
            else:
                uids.add(uid)
        if len(uids) > 1:
            ok = False
            row.errors.append(f"“{group}” names different groups on the chosen connections: use its uid.")
        elif uids and (uid := uids.pop()) not in resolved:
            resolved.append(uid)
    if ok:
        row.groups = resolved


def _validate(rows: list[Row], *, known_groups: dict[str, dict[str, str]] | None,
              permissions: set[str]) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        if not row.email:
            row.errors.append("No e-mail address.")
        elif not valid_email(row.email):
            row.errors.append(f"“{row.email}” is not a valid e-mail address.")
        else:
            key = row.email.lower()
            if key in seen:
                row.errors.append(f"Duplicate of line {seen[key]} (addresses are compared without case).")
            else:
                seen[key] = row.line
        for name, value in (("first name", row.first_name), ("last name", row.last_name)):
            if len(value) > MAX_NAME_LENGTH:
                row.errors.append(f"The {name} is longer than {MAX_NAME_LENGTH} characters.")
        if known_groups is not None:
            _resolve_groups(row, known_groups)
        unknown = [p for p in row.permissions if p not in permissions]
        if unknown:
            row.errors.append(f"Unknown permission(s): {', '.join(unknown)}.")
        row.permissions = list(dict.fromkeys(row.permissions))
