"""Fixtures for the sandbox tests: a controllable clock, a seeded portal and a spec-validating API client."""

import datetime as dt

import pytest

from portaladmin.sandbox import clock as sandbox_clock_module
from portaladmin.sandbox.services import seed_portal
from tests.sandbox.helpers import SANDBOX_KEY, FakeClock, SandboxApi, new_dataset_body  # noqa: F401 (re-exported)


@pytest.fixture
def sandbox_clock(monkeypatch):
    fake = FakeClock(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(sandbox_clock_module, "now", fake)
    return fake


@pytest.fixture
def seeded(db, sandbox_clock):
    portal, key = seed_portal("acme", datasets=40, users=6, groups=3, harvesters=2, pages=4, api_key=SANDBOX_KEY,
                              reset=True)
    return portal


@pytest.fixture
def api(client, seeded):
    return SandboxApi(client, "acme", SANDBOX_KEY)
