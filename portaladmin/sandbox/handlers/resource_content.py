"""What the sandbox portal reads behind a resource, and what it guesses and previews from it.

Guesses and previews depend on the file's content (a CSV separated by `;` is guessed as `;`, a JSON array as
jsonfile), the extractor's parameters change the preview (a wrong separator gives one column, an unknown
encoding or a bad JSON root the portal's message on that parameter), and an HTTP source on a host that cannot
resolve (the reserved `.invalid`/`.example`/`.test` names, RFC 2606) gives the portal's "could not reach" error.
The sandbox never fetches anything from the network: other URLs serve a small generated file.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from urllib.parse import urlsplit

from django.conf import settings

from ..api import ApiError, invalid
from ..store import objects

UNREACHABLE_SUFFIXES = (".invalid", ".example", ".test", ".localhost")
DEFAULT_MAX_UPLOAD = 240 * 1024 * 1024  # the portal's own limit on a resource file


def max_upload_bytes() -> int:
    return int(getattr(settings, "SANDBOX_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD))


def check_upload_size(upload) -> None:
    limit = max_upload_bytes()
    if upload.size > limit:
        raise invalid({"file": [f"The file is too large ({upload.size} bytes); the maximum is {limit} bytes."]},
                      "File too large.")


def _generated(name: str) -> bytes:
    """A small file for a URL the sandbox does not fetch, in the format its name says."""
    ext = os.path.splitext(name.lower())[1]
    rows = [(2020 + n, f"Region {n + 1}", 1000 * (n + 1)) for n in range(6)]
    if ext in (".json",):
        return json.dumps([{"year": y, "region": r, "population": p} for y, r, p in rows]).encode()
    if ext == ".geojson":
        features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [4.8 + n / 10, 45.7]},
                     "properties": {"name": f"Point {n + 1}"}} for n in range(3)]
        return json.dumps({"type": "FeatureCollection", "features": features}).encode()
    # `;`: what the seeded resources declare (and what French portals mostly serve)
    return ("year;region;population\n" + "".join(f"{y};{r};{p}\n" for y, r, p in rows)).encode()


def _connection_url(ctx, source: dict) -> str:
    conn = source.get("connection")
    if not isinstance(conn, dict):
        return ""
    if conn.get("url"):
        return str(conn["url"])
    uid = conn.get("uid")
    found = objects(ctx.portal, "connection", "").filter(key=uid).first() if uid else None
    if uid and found is None:
        raise invalid({"datasource": {"connection": [f"The connection {uid} does not exist."]}})
    return str((found.data or {}).get("url") or "") if found else ""


def source_content(ctx, dataset_uid: str, source: dict) -> tuple[bytes, str]:
    """(bytes, file name) behind a datasource; a ValidationError like the portal's when it cannot be read."""
    kind = source.get("type")
    if kind == "uploaded_file":
        file_uid = (source.get("file") or {}).get("uid") if isinstance(source.get("file"), dict) else None
        found = objects(ctx.portal, "file", dataset_uid).filter(key=file_uid).first() if file_uid else None
        if found is None:
            raise invalid({"datasource": {"file": ["This file does not exist."]}})
        return bytes(found.blob or b""), str(found.data.get("filename") or file_uid)
    if kind in ("http", "ftp"):
        base = _connection_url(ctx, source)
        url = base.rstrip("/") + "/" + str(source.get("relative_url") or "").lstrip("/") if base else ""
        host = (urlsplit(url).hostname or "").lower()
        if not host or host.endswith(UNREACHABLE_SUFFIXES) or host in ("invalid", "localhost"):
            raise invalid({"datasource": ["The resource could not be downloaded: the host could not be reached."]},
                          f"Unable to retrieve the resource at {url or 'an empty address'}: the host could not be "
                          "reached.")
        return _generated(urlsplit(url).path), os.path.basename(urlsplit(url).path) or "data.csv"
    return _generated("data.csv"), "data.csv"


# ---------------------------------------------------------------------------------------------- guesses

def guess_extractor(raw: bytes, name: str) -> str:
    head = raw[:4096].lstrip()
    if raw[:2] == b"PK" or raw[:4] == b"\xd0\xcf\x11\xe0" or name.lower().endswith((".xls", ".xlsx")):
        return "xlsfile"
    if head[:1] in (b"{", b"["):
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return "csvfile"
        if isinstance(data, dict) and data.get("type") == "FeatureCollection":
            return "geojson"
        return "jsonfile"
    return "csvfile"


def _encoding_of(raw: bytes) -> str:
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "iso-8859-1"


def _separator_of(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {sep: first.count(sep) for sep in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _json_root(data) -> str:
    if isinstance(data, list):
        return ""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, list):
                return key
    return ""


def guess_params(raw: bytes, extractor: str) -> dict:
    if extractor == "csvfile":
        encoding = _encoding_of(raw)
        return {"separator": _separator_of(raw.decode(encoding, errors="replace")), "encoding": encoding,
                "headers_first_row": True, "first_row_no": 1, "doublequote": True}
    if extractor == "jsonfile":
        try:
            return {"json_root": _json_root(json.loads(raw.decode("utf-8")))}
        except (UnicodeDecodeError, ValueError):
            return {"json_root": ""}
    if extractor == "xlsfile":
        return {"sheet": "", "headers_first_row": True, "first_row_no": 1}
    return {}


# ---------------------------------------------------------------------------------------------- preview

def _param_error(name: str, message: str) -> ApiError:
    return invalid({"params": {name: [message]}}, f"Extraction failed: {message}")


def _truthy(value) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")


def _csv_rows(raw: bytes, params: dict) -> tuple[list[str], list[list[str]]]:
    encoding = str(params.get("encoding") or "utf-8")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise _param_error("encoding", f"Unknown encoding \u201c{encoding}\u201d.") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise _param_error("encoding", f"The file cannot be decoded as {encoding}.") from None
    separator = params.get("separator")
    separator = _separator_of(text) if separator in (None, "") else str(separator)
    if separator == "\\t":
        separator = "\t"
    if len(separator) != 1:
        raise _param_error("separator", "The separator must be a single character.")
    try:
        first = params.get("first_row_no")
        first = 1 if first in (None, "") else int(first)
    except (TypeError, ValueError):
        raise _param_error("first_row_no", "The first row number must be a whole number.") from None
    if first < 1:
        raise _param_error("first_row_no", "The first row number must be 1 or more.")
    reader = csv.reader(io.StringIO(text), delimiter=separator,
                        doublequote=_truthy(params.get("doublequote", True)))
    rows = [r for r in reader][first - 1:]
    headers_first = _truthy(params.get("headers_first_row", True))
    if headers_first and rows:
        return rows[0], rows[1:21]
    width = max((len(r) for r in rows[:20]), default=0)
    return [f"column_{i + 1}" for i in range(width)], rows[:20]


def _json_rows(raw: bytes, params: dict) -> tuple[list[str], list[list]]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise invalid({"datasource": ["The file is not valid JSON."]}, "Extraction failed: the file is not valid JSON.") from None
    root = str(params.get("json_root") or "")
    for part in [p for p in root.replace(".", "/").split("/") if p]:
        data = data.get(part) if isinstance(data, dict) else None
    if not isinstance(data, list):
        raise _param_error("json_root", f"No array of objects at \u201c{root or '(the top)'}\u201d.")
    items = [d for d in data if isinstance(d, dict)][:20]
    header: list[str] = []
    for item in items:
        header.extend(k for k in item if k not in header)
    return header, [[item.get(k) for k in header] for item in items]


def _geojson_rows(raw: bytes) -> tuple[list[str], list[list]]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise invalid({"datasource": ["The file is not valid GeoJSON."]}, "Extraction failed: not GeoJSON.") from None
    features = [f for f in (data.get("features") or []) if isinstance(f, dict)][:20] if isinstance(data, dict) else []
    header = ["geo_shape"]
    for f in features:
        header.extend(k for k in (f.get("properties") or {}) if k not in header)
    return header, [[json.dumps(f.get("geometry"))] + [(f.get("properties") or {}).get(k) for k in header[1:]]
                    for f in features]


def _kind(values: list) -> str:
    values = [v for v in values if v not in ("", None)]
    if not values:
        return "text"
    try:
        [int(v) for v in values]
        return "int"
    except (TypeError, ValueError):
        try:
            [float(v) for v in values]
            return "double"
        except (TypeError, ValueError):
            return "text"


def preview(raw: bytes, extractor: str, params: dict) -> dict:
    """The spec's ResourcePreview: field definitions and up to 20 records."""
    params = params if isinstance(params, dict) else {}
    if extractor == "jsonfile":
        header, body = _json_rows(raw, params)
    elif extractor == "geojson":
        header, body = _geojson_rows(raw)
    elif extractor == "xlsfile":
        raise _param_error("sheet", "The sandbox cannot read spreadsheets; use a CSV file to try the preview.")
    elif extractor == "realtime":
        header, body = [], []  # a realtime resource has records only once something is pushed
    else:
        header, body = _csv_rows(raw, params)
    names, seen = [], set()
    for i, h in enumerate(header):
        name = "".join(c if c.isalnum() else "_" for c in str(h).strip().lower()).strip("_") or f"column_{i + 1}"
        while name in seen:
            name += "_"
        seen.add(name)
        names.append(name)
    fields = [{"name": n, "label": str(header[i]).strip() or n, "original_name": str(header[i]),
               "type": _kind([r[i] for r in body if i < len(r)]), "annotations": [], "description": ""}
              for i, n in enumerate(names)]
    records = [{names[i]: (r[i] if i < len(r) else None) for i in range(len(names))} for r in body]
    return {"fields": fields, "records": records}
