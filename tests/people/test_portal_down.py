"""A user or group page whose portal answers 5xx (or is unreachable) says so instead of a server error (it was a 500)."""

import pytest

from .conftest import API, group, paginated, user

ERROR = {"error_code": "internal_error", "message": "A server error occurred.", "trace_id": "t-1"}


@pytest.mark.parametrize("path, remote", [
    ("users/ada/", "/users/ada/"),
    ("groups/gis/", "/groups/gis/"),
    ("groups/gis/edit/", "/groups/gis/"),
    ("groups/gis/members/batch/", "/groups/gis/"),
])
def test_a_failing_portal_gives_a_clear_page_not_a_500(api, client_as, cast, path, remote):
    api.get(API + remote, status=503, json=ERROR)
    api.get(API + "/groups/", json=paginated([group("gis")]))
    response = client_as(cast["operator"]).get(f"/c/demo/{path}")
    html = response.content.decode()
    assert response.status_code == 502
    assert "The portal did not answer" in html and "A server error occurred." in html
    assert "/connections/demo/" in html  # where to check the connection's health
    assert "nothing was changed" not in html  # only a read was asked


def test_a_failed_save_whose_page_cannot_be_read_back_is_not_a_500(api, client_as, cast):
    api.put(API + "/users/ada/", json=user("ada"))
    api.get(API + "/users/ada/", status=503, json=ERROR)
    response = client_as(cast["operator"]).post("/c/demo/users/ada/limits/", {"api_calls_limit": "-1"})
    assert response.status_code == 502 and "nothing was changed" in response.content.decode()


def test_a_missing_user_is_still_a_404(api, client_as, cast):
    api.get(API + "/users/nobody/", status=404, json={"error_code": "not_found", "message": "Not found."})
    assert client_as(cast["viewer"]).get("/c/demo/users/nobody/").status_code == 404
