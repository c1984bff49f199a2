"""Fixtures for the sandbox tests: a seeded portal and a spec-validating API client.

The controllable clock, `sandbox_clock`, comes from tests/sandbox_fixtures.py."""

import pytest

from portaladmin.sandbox.services import seed_portal
from tests.sandbox.helpers import SANDBOX_KEY, FakeClock, SandboxApi, new_dataset_body  # noqa: F401 (re-exported)


@pytest.fixture
def seeded(db, sandbox_clock):
    portal, key = seed_portal("acme", datasets=40, users=6, groups=3, harvesters=2, pages=4, api_key=SANDBOX_KEY,
                              reset=True)
    return portal


@pytest.fixture
def api(client, seeded):
    return SandboxApi(client, "acme", SANDBOX_KEY)
