"""An unavailable portal on a page that only reads does not say "nothing was changed" (it puzzled: nothing was
asked); after a write it still does."""

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from portaladmin.datasets.views.common import portal_failure
from portaladmin.portals.client.errors import PortalUnavailable


def _request(method: str):
    request = getattr(RequestFactory(), method)("/c/demo/datasets/da_1/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.parametrize("method, expected", [
    ("get", "The portal is unavailable right now. Try again in a moment. (down)"),
    ("post", "The portal is unavailable right now; nothing was changed. Try again in a moment. (down)"),
])
def test_wording_follows_what_was_asked(connection, method, expected):
    request = _request(method)
    assert portal_failure(request, connection, PortalUnavailable("down", status=503)) == "error"
    assert [str(m) for m in get_messages(request)] == [expected]
