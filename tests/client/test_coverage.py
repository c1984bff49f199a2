"""Guards: API.md lists exactly PortalClient's public methods, and each one is exercised by a test."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from portaladmin.portals.client import PortalClient

HERE = Path(__file__).resolve().parent
API_MD = HERE.parents[1] / "portaladmin" / "portals" / "client" / "API.md"
PLUMBING = {"close", "path", "session", "max_retries", "allow_private"}


def public_methods() -> set[str]:
    return {name for name, member in inspect.getmembers(PortalClient)
            if not name.startswith("_") and callable(member) and name not in PLUMBING}


def documented_methods() -> set[str]:
    names: set[str] = set()
    for line in API_MD.read_text().splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        first = re.match(r"\s*`([a-z_]+)[(` ]", cell)
        if not first:
            continue
        name = first.group(1)
        names.add(name)
        # "`x_ruleset_list / _get / _create(...) / _update / _delete`" shorthand
        stem = name.rsplit("_", 1)[0]
        for suffix in re.findall(r" / (_[a-z]+)", cell):
            names.add(stem + suffix)
    return names


def test_api_md_matches_the_client():
    documented = documented_methods() - {"client_for", "clear_client_cache"}
    assert documented - public_methods() == set(), "documented but missing on PortalClient"
    assert public_methods() - documented == set(), "on PortalClient but missing from API.md"


def test_every_public_method_has_a_test():
    from tests.client.test_methods import COVERED

    text = "\n".join(p.read_text() for p in HERE.glob("test_*.py") if p.name != "test_coverage.py")
    untested = {name for name in public_methods()
                if name not in COVERED and not re.search(rf"\.{name}\(", text)}
    assert untested == set()


def test_methods_use_keyword_only_options():
    # identifiers positional, options keyword-only: a caller cannot swap limit and offset by accident
    for name in public_methods():
        sig = inspect.signature(getattr(PortalClient, name))
        for param in sig.parameters.values():
            if param.name in {"limit", "offset", "page_size", "search", "sort", "permissions", "expand",
                              "delete_attached_datasets", "cron_schedule", "timezone", "is_archived"}:
                assert param.kind is inspect.Parameter.KEYWORD_ONLY, f"{name}({param.name})"
