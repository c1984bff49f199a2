"""`make run PORT=…`: the demo's sandbox connections and the printed login follow the port the app runs on."""

import io

import pytest
from django.core.management import call_command

from portaladmin.portals.models import Connection


@pytest.mark.django_db
def test_demo_setup_on_another_port_points_connections_and_login_there(settings):
    settings.PORTALADMIN_SELF_URL = "http://127.0.0.1:8000"
    call_command("demo_setup", "--small", stdout=io.StringIO())
    key_before = Connection.objects.get(slug="lyon").api_key

    out = io.StringIO()
    call_command("demo_setup", "--small", "--base-url", "http://127.0.0.1:8791", stdout=out)

    for conn in Connection.objects.filter(slug__in=("lyon", "bretagne")):
        assert conn.base_url == f"http://127.0.0.1:8791/sandbox/{conn.slug}"
    assert Connection.objects.get(slug="lyon").api_key == key_before  # repointed, not reseeded
    assert "Log in at http://127.0.0.1:8791/ as admin" in out.getvalue()


@pytest.mark.django_db
def test_demo_setup_leaves_real_portal_connections_alone(settings, make_connection):
    conn = make_connection(slug="lyon", base_url="https://data.example.org")
    call_command("demo_setup", "--small", "--base-url", "http://127.0.0.1:8791", stdout=io.StringIO())
    conn.refresh_from_db()
    assert conn.base_url == "https://data.example.org"
