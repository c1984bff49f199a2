"""Every client made during a test is closed after it: a keep-alive socket to one test's live server must not
outlive the test (its request thread would touch the test database after the test ended). client_for() drops
the client of a replaced key without closing it (another thread may still use it), so the cache alone is not
enough here."""

import pytest

from portaladmin.portals import client as client_module
from portaladmin.portals.client import clear_client_cache


@pytest.fixture(autouse=True)
def _fresh_clients(monkeypatch):
    made = []
    original = client_module.PortalClient.__init__

    def recording_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(client_module.PortalClient, "__init__", recording_init)
    clear_client_cache()
    yield
    clear_client_cache()
    for client in made:
        client.close()
