"""Every dataset operation of the spec is reachable from a screen or a job (issue #18).

How: (1) the spec's dataset operations — tags starting with "Dataset" plus "Assets" (`/medias/images/`) — from
openapi.json; (2) which client method sends each: every public PortalClient method is called with placeholder
arguments against a recording `_request` (no network), and the request it would send is matched to a spec path;
(3) which client methods the project uses outside the client package (and outside the sandbox, which serves the
API rather than calling it): a call `.<method>(` in portaladmin/**.py. An operation whose methods are all unused
fails the test, unless it is one of the EXCEPTIONS below, each with its reason.
"""

from __future__ import annotations

import inspect
import io
import json
import re
from pathlib import Path

import pytest

from portaladmin.portals.client import PortalClient

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "api" / "openapi.json"
METHODS = ("get", "post", "put", "delete", "patch")

# Operations nothing reaches on purpose.
EXCEPTIONS = {
    # Reading one item again after its list: the screens show the list's copy, which has the same fields.
    "retrieve-dataset-version": "the versions tab shows every field of a version from the list",
    "retrieve-dataset-user-security": "the security tab edits rulesets from the list's copy",
    "retrieve-dataset-group-security": "the security tab edits rulesets from the list's copy",
    "retrieve-dataset-field-configuration": "the schema view reads the configurations' list",
    # The whole-metadata writes overwrite every template at once; the editor sends only changed fields
    # (one PUT/DELETE per field) so that someone else's change meanwhile is never overwritten.
    "update-all-dataset-metadata": "the editor sends only the fields a person changed",
    "update-template-dataset-metadata": "the editor sends only the fields a person changed",
    "list-template-dataset-metadata": "the editor reads all templates at once (list-all-dataset-metadata)",
}

def spec_operations() -> dict[str, tuple[str, str]]:
    spec = json.loads(SPEC.read_text())
    out = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op and any(t.startswith("Dataset") or t == "Assets" for t in op.get("tags", [])):
                out[op["operationId"]] = (method.upper(), path)
    return out


class _Sent(Exception):
    pass


def _placeholder(param: inspect.Parameter):
    kind = str(param.annotation)
    if "BinaryIO" in kind:
        return io.BytesIO(b"x")
    if "bool" in kind and "str" not in kind:
        return True
    if kind.startswith("int") or kind == "int":
        return 1
    if kind.startswith("dict") or "dict" in kind.split("|")[0]:
        return {}
    if kind.startswith("list"):
        return []
    return "x1"


def client_operations(operations: dict[str, tuple[str, str]]) -> dict[str, set[str]]:
    """{client method name: {operationIds it sends}}, found by calling each method with placeholders."""
    patterns = {op: (m, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$")) for op, (m, p) in
                operations.items()}
    client = PortalClient(base_url="https://portal.invalid/api/automation/v1.0", api_key="k" * 32)
    sent: list[tuple[str, str]] = []

    def record(method, path, **kwargs):
        sent.append((method.upper(), path if path.endswith("/") else path + "/"))
        raise _Sent()

    client._request = record
    out: dict[str, set[str]] = {}
    for name, fn in inspect.getmembers(PortalClient, inspect.isfunction):
        if name.startswith("_") or name in ("path", "close"):
            continue
        params = list(inspect.signature(fn).parameters.values())[1:]
        args = [_placeholder(p) for p in params if p.default is p.empty and p.kind == p.POSITIONAL_OR_KEYWORD]
        kwargs = {p.name: _placeholder(p) for p in params if p.default is p.empty and p.kind == p.KEYWORD_ONLY}
        sent.clear()
        try:
            result = getattr(client, name)(*args, **kwargs)
            if inspect.isgenerator(result) or hasattr(result, "__next__"):
                next(iter(result))
        except (_Sent, StopIteration):
            pass
        except Exception:  # noqa: BLE001, S112 - a method needing real arguments simply maps to nothing here
            continue
        for method, path in sent:
            for op, (m, pattern) in patterns.items():
                if m == method and pattern.match(path):
                    out.setdefault(name, set()).add(op)
    return out


def methods_used_outside_the_client() -> set[str]:
    used: set[str] = set()
    for file in (ROOT / "portaladmin").rglob("*.py"):
        rel = file.relative_to(ROOT / "portaladmin").as_posix()
        if rel.startswith(("portals/client/", "sandbox/")):
            continue
        used.update(re.findall(r"\.([a-z_][a-z0-9_]*)\(", file.read_text()))
    return used


@pytest.fixture(scope="module")
def reach():
    if not SPEC.exists():
        pytest.skip("../shared/api/openapi.json not found: the spec's operations cannot be listed")
    operations = spec_operations()
    by_method = client_operations(operations)
    used = methods_used_outside_the_client()
    reached = {op for name, ops in by_method.items() if name in used for op in ops}
    return operations, by_method, reached


def test_the_walk_sees_the_spec_and_the_client(reach):
    operations, by_method, _reached = reach
    assert len(operations) >= 80  # every dataset operation (and the two asset ones) of the spec
    assert by_method["processor_create"] == {"create-dataset-processor"}
    assert by_method["feedback_archive"] == {"archive-dataset-feedback"}


def test_every_dataset_operation_is_reached_from_a_screen_or_a_job(reach):
    operations, by_method, reached = reach
    missing = sorted(set(operations) - reached - set(EXCEPTIONS))
    assert not missing, ("Dataset operations of the spec that no screen or job reaches (add one, or an "
                         f"exception with its reason): {missing}")
    stale = sorted(set(EXCEPTIONS) & reached)
    assert not stale, f"Listed as exceptions but reached now (remove them from EXCEPTIONS): {stale}"
