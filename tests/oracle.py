"""OpenAPI test oracle: check requests and responses against Opendatasoft's own spec.

The spec lives outside the repository (../shared/api/openapi.json, or env PORTALADMIN_OPENAPI). It is
loaded once, its known defects (listed in ../shared/api/FACTS.md) are patched in memory, and JSON
Schema (draft 2020-12, the dialect of OpenAPI 3.1) validators are compiled once and cached.

    from tests.oracle import requires_spec, validate_request, validate_response

    @requires_spec
    def test_x():
        validate_request("GET", "/datasets/", query={"limit": "10"})
        validate_response("GET", "/datasets/da_x/status/", 200, body)

`path` is the path after /api/automation/v1.0 (a query string in it is accepted and checked too).
Both raise AssertionError with a readable message on mismatch.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

_DEFAULT_SPEC = Path(__file__).resolve().parent.parent.parent / "shared" / "api" / "openapi.json"
API_PREFIX = "/api/automation/v1.0"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
REQ_URI = "urn:openapi:request"
RESP_URI = "urn:openapi:response"


def spec_path() -> Path:
    return Path(os.environ.get("PORTALADMIN_OPENAPI") or _DEFAULT_SPEC)


def spec_available() -> bool:
    return spec_path().is_file()


requires_spec = pytest.mark.skipif(not spec_available(), reason="../shared/api/openapi.json not found")


# --------------------------------------------------------------------------------------------- loading


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _patch_defects(spec: dict) -> None:
    """Fix, in memory, the spec defects listed in FACTS.md (and a few found while testing)."""
    comps = spec["components"]
    # 1. is_published: type [null, "boolean"] (JSON null) should be ["null", "boolean"].
    status_schema = comps["responses"]["DatasetProcessingStatus"]["content"]["application/json"]["schema"]
    status_schema["properties"]["is_published"]["type"] = ["null", "boolean"]
    # 2. total_count is typed string but is an integer in real answers.
    comps["schemas"]["PaginatedResults"]["properties"]["total_count"]["type"] = ["integer", "null"]
    # 3. User.groups: oneOf of two array shapes that both accept [] -> anyOf.
    groups = comps["schemas"]["User"]["properties"].get("groups")
    if groups and "oneOf" in groups:
        groups["anyOf"] = groups.pop("oneOf")
    # 3b. Same defect (found by the client tests): DatasetMetadataTemplate is a oneOf of template shapes whose
    #     properties are all optional, so a valid "default" template also matches the others -> anyOf.
    template = comps["schemas"].get("DatasetMetadataTemplate", {})
    if "oneOf" in template:
        template["anyOf"] = template.pop("oneOf")
    # 3c. Same again: MetadataTemplateFieldSuggestions is a oneOf of two objects with only optional properties
    #     (every answer matches both) -> anyOf.
    suggestions = comps["schemas"].get("MetadataTemplateFieldSuggestions", {})
    if "oneOf" in suggestions:
        suggestions["anyOf"] = suggestions.pop("oneOf")
    for node in _walk(spec):
        # 4. any other JSON null used as a type name.
        if isinstance(node.get("type"), list) and None in node["type"]:
            node["type"] = ["null" if t is None else t for t in node["type"]]
        # 5. defaults that contradict their own type (feedbacks is_archived: 0; MetadataTemplateField.label: null).
        if "default" in node and node.get("type") == "boolean" and not isinstance(node["default"], bool):
            node.pop("default")
        if "default" in node and node["default"] is None and node.get("type") == "string":
            node.pop("default")


def _rewrite_refs(node: Any, base: str) -> None:
    for obj in _walk(node):
        ref = obj.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            obj["$ref"] = base + ref


def _is_read_only(prop: Any, schemas: dict) -> bool:
    if not isinstance(prop, dict):
        return False
    if prop.get("readOnly"):
        return True
    ref = prop.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        target = schemas.get(ref.rsplit("/", 1)[-1], {})
        return bool(target.get("readOnly"))
    return False


def _request_flavour(spec: dict) -> None:
    """Requests never carry read-only properties: drop them from `required`."""
    schemas = spec["components"]["schemas"]
    for node in _walk(spec):
        props = node.get("properties")
        req = node.get("required")
        if isinstance(props, dict) and isinstance(req, list):
            node["required"] = [name for name in req if not _is_read_only(props.get(name), schemas)]
    # allOf parts may list required names whose properties live in a sibling part.
    for node in _walk(spec):
        parts = node.get("allOf")
        if isinstance(parts, list):
            ro = set()
            for part in parts:
                if isinstance(part, dict):
                    target = part
                    ref = part.get("$ref", "")
                    if ref.startswith("#/components/schemas/"):
                        target = schemas.get(ref.rsplit("/", 1)[-1], {})
                    for name, prop in (target.get("properties") or {}).items():
                        if _is_read_only(prop, schemas):
                            ro.add(name)
            for part in parts:
                if isinstance(part, dict) and isinstance(part.get("required"), list):
                    part["required"] = [n for n in part["required"] if n not in ro]


class _Oracle:
    def __init__(self, path: Path):
        raw = json.loads(path.read_text())
        _patch_defects(raw)
        self.spec = raw
        req_spec = copy.deepcopy(raw)
        _request_flavour(req_spec)
        self.req_spec = copy.deepcopy(req_spec)
        self.resp_spec = copy.deepcopy(raw)
        _rewrite_refs(self.req_spec, REQ_URI)
        _rewrite_refs(self.resp_spec, RESP_URI)
        self.registry = Registry().with_resources([
            (REQ_URI, Resource(contents=self.req_spec, specification=DRAFT202012)),
            (RESP_URI, Resource(contents=self.resp_spec, specification=DRAFT202012)),
        ])
        self.templates = []
        for template in raw["paths"]:
            segments = template.strip("/").split("/")
            literal = sum(1 for s in segments if not s.startswith("{"))
            pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
            self.templates.append((literal, template, re.compile(pattern)))
        # most literal segments first, so /resources/files/ beats /resources/{resource_uid}/
        self.templates.sort(key=lambda t: (-t[0], t[1]))
        self._validators: dict[tuple[str, int], Draft202012Validator] = {}
        self._param_schemas: dict[str, dict] = {}

    # ---- helpers
    def match(self, method: str, path: str) -> tuple[str, str, dict, dict]:
        method = method.lower()
        if not path.endswith("/"):
            raise AssertionError(f"{method.upper()} {path}: every path must end with '/'")
        candidates = [t for _, t, rx in self.templates if rx.match(path)]
        if not candidates:
            raise AssertionError(f"{method.upper()} {path}: no such path in the spec")
        for template in candidates:
            item = self.spec["paths"][template]
            if method in item:
                return template, method, item[method], item
        allowed = sorted({m.upper() for t in candidates for m in self.spec["paths"][t] if m in METHODS})
        raise AssertionError(f"{method.upper()} {path}: method not allowed by the spec for "
                             f"{candidates[0]} (allowed: {', '.join(allowed)})")

    def deref(self, node: dict, spec: dict | None = None) -> dict:
        spec = spec or self.spec
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 10:
            ref = node["$ref"].split("#", 1)[1]
            node = spec
            for part in ref.strip("/").split("/"):
                node = node[unquote(part).replace("~1", "/").replace("~0", "~")]
            seen += 1
        return node

    def validator(self, schema: dict, uri: str) -> Draft202012Validator:
        key = (uri, id(schema))
        found = self._validators.get(key)
        if found is None:
            Draft202012Validator.check_schema(schema)
            found = Draft202012Validator(schema, registry=self.registry)
            self._validators[key] = found
        return found

    @staticmethod
    def errors_text(validator: Draft202012Validator, instance: Any, limit: int = 5) -> str:
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if not errors:
            return ""
        lines = []
        for err in errors[:limit]:
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            lines.append(f"  at {where}: {err.message[:300]}")
            for sub in (err.context or [])[:3]:
                subwhere = "/".join(str(p) for p in sub.absolute_path) or "(root)"
                lines.append(f"     - {subwhere}: {sub.message[:200]}")
        if len(errors) > limit:
            lines.append(f"  … and {len(errors) - limit} more")
        return "\n".join(lines)

    # ---- parameters
    def parameters(self, op: dict, item: dict) -> list[dict]:
        params = {}
        for raw in item.get("parameters", []) + op.get("parameters", []):
            p = self.deref(raw)
            params[(p["name"], p["in"])] = p
        return list(params.values())

    def _coerce(self, value: str, schema: dict) -> Any:
        schema = self.deref(schema)
        kind = schema.get("type")
        if kind == "boolean":
            if value in ("true", "True", "1"):
                return True
            if value in ("false", "False", "0"):
                return False
            return value
        if kind in ("number", "integer"):
            try:
                number = float(value)
            except ValueError:
                return value
            return int(number) if number.is_integer() else number
        return value

    def check_query(self, label: str, op: dict, item: dict, query: dict[str, list[str]]) -> None:
        params = [p for p in self.parameters(op, item) if p["in"] == "query"]
        known = {p["name"]: p for p in params}
        problems = []
        for name in query:
            if name not in known:
                problems.append(f"unknown query parameter {name!r} (spec knows: {', '.join(sorted(known)) or 'none'})")
        for name, param in known.items():
            values = query.get(name)
            if values is None:
                if param.get("required"):
                    problems.append(f"required query parameter {name!r} missing")
                continue
            schema = self.deref(param.get("schema", {}))
            if schema.get("type") == "array":
                items = schema.get("items", {})
                instance = [self._coerce(v, items) for v in values]
            else:
                if len(values) > 1:
                    problems.append(f"query parameter {name!r} repeated but is not an array")
                    continue
                instance = self._coerce(values[0], schema)
            v = self.validator(self._param_schema(param), REQ_URI)
            text = self.errors_text(v, instance)
            if text:
                problems.append(f"query parameter {name!r}={values!r}:\n{text}")
        if problems:
            raise AssertionError(f"{label}: " + "\n".join(problems))

    def _param_schema(self, param: dict) -> dict:
        schema = copy.deepcopy(param.get("schema", {}))
        _rewrite_refs(schema, REQ_URI)
        key = json.dumps(schema, sort_keys=True)
        return self._param_schemas.setdefault(key, schema)


@functools.cache
def _oracle() -> _Oracle:
    path = spec_path()
    if not path.is_file():
        pytest.skip("../shared/api/openapi.json not found")
    return _Oracle(path)


def _normalise_query(path: str, query: Any) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(path)
    if parts.path.startswith(API_PREFIX):
        path_only = parts.path[len(API_PREFIX):]
    else:
        path_only = parts.path
    merged: dict[str, list[str]] = {}
    if parts.query:
        for k, vs in parse_qs(parts.query, keep_blank_values=True).items():
            merged.setdefault(k, []).extend(vs)
    if isinstance(query, str):
        query = parse_qs(query.lstrip("?"), keep_blank_values=True)
    for k, v in (query or {}).items():
        values = v if isinstance(v, list | tuple) else [v]
        for item in values:
            if isinstance(item, bool):
                item = "true" if item else "false"
            merged.setdefault(k, []).append(str(item))
    return path_only, merged


# --------------------------------------------------------------------------------------------- public API


def spec() -> dict:
    """The patched spec (read-only use)."""
    return _oracle().spec


def operation_for(method: str, path: str) -> tuple[str, dict]:
    """(templated path, operation object) for a concrete method + path."""
    template, _, op, _ = _oracle().match(method, _normalise_query(path, None)[0])
    return template, op


def validate_request(method: str, path: str, query: Any = None, json_body: Any = None,
                     content_type: str | None = None) -> str:
    """Check one request; returns the templated spec path it matched."""
    oracle = _oracle()
    path_only, q = _normalise_query(path, query)
    template, m, op, item = oracle.match(method, path_only)
    label = f"{method.upper()} {path_only} (spec {template})"
    oracle.check_query(label, op, item, q)
    body_spec = oracle.deref(op.get("requestBody", {})) if op.get("requestBody") else None
    ct = (content_type or ("application/json" if json_body is not None else "")).split(";")[0].strip().lower()
    if body_spec is None:
        if json_body is not None or ct.startswith("multipart/"):
            raise AssertionError(f"{label}: the spec declares no request body, but one was sent")
        return template
    content = body_spec.get("content", {})
    if json_body is None and not ct:
        if body_spec.get("required"):
            raise AssertionError(f"{label}: request body is required ({', '.join(content)})")
        return template
    if ct not in content:
        raise AssertionError(f"{label}: content type {ct!r} not accepted (spec: {', '.join(content)})")
    if ct == "application/json":
        schema = oracle.req_spec["paths"][template][m]
        schema = oracle.deref(schema["requestBody"], oracle.req_spec)["content"][ct].get("schema")
        if schema is not None:
            text = oracle.errors_text(oracle.validator(schema, REQ_URI), json_body)
            if text:
                raise AssertionError(f"{label}: request body does not match the spec:\n{text}\n"
                                     f"body: {json.dumps(json_body)[:500]}")
    return template


def validate_response(method: str, path: str, status: int, json_body: Any) -> str:
    """Check one response (status + JSON body); returns the templated spec path it matched."""
    oracle = _oracle()
    path_only, _ = _normalise_query(path, None)
    template, m, op, _ = oracle.match(method, path_only)
    label = f"{method.upper()} {path_only} → {status} (spec {template})"
    responses = oracle.resp_spec["paths"][template][m].get("responses", {})
    declared = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    if declared is None:
        raise AssertionError(f"{label}: status {status} not declared (spec: {', '.join(responses)})")
    declared = oracle.deref(declared, oracle.resp_spec)
    if status == 204:  # declared with a JSON body that is never sent
        if json_body not in (None, b"", ""):
            raise AssertionError(f"{label}: a 204 answer carries no body")
        return template
    content = declared.get("content") or {}
    media = content.get("application/json")
    if media is None:
        if json_body is not None and content and not any("json" in c for c in content):
            raise AssertionError(f"{label}: spec declares {', '.join(content)} (not JSON)")
        return template
    schema = media.get("schema")
    if schema is None:
        return template
    text = oracle.errors_text(oracle.validator(schema, RESP_URI), json_body)
    if text:
        raise AssertionError(f"{label}: response body does not match the spec:\n{text}\n"
                             f"body: {json.dumps(json_body)[:500]}")
    return template


def response_schema(method: str, path: str, status: int) -> dict | None:
    """The (patched, dereferenced at top level) JSON schema of a response, for building canned bodies."""
    oracle = _oracle()
    template, m, _, _ = oracle.match(method, _normalise_query(path, None)[0])
    responses = oracle.spec["paths"][template][m].get("responses", {})
    declared = oracle.deref(responses.get(str(status)) or responses.get("default") or {})
    media = (declared.get("content") or {}).get("application/json") or {}
    return media.get("schema")


def all_operations() -> list[tuple[str, str]]:
    """Every (METHOD, templated path) of the spec."""
    return [(m.upper(), p) for p, item in _oracle().spec["paths"].items() for m in item if m in METHODS]
