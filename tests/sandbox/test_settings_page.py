"""The sandbox settings page (fault injection, request log) is linked from the navigation for superusers
when the sandbox is on; it was reachable only by typing /sandbox/."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_superusers_find_the_sandbox_page_in_the_navigation(client_as, cast):
    html = client_as(cast["superuser"]).get(reverse("home")).content.decode()
    assert f'href="{reverse("sandbox:index")}">Sandbox</a>' in html


@pytest.mark.django_db
def test_other_people_do_not_get_the_link(client_as, cast):
    assert ">Sandbox</a>" not in client_as(cast["admin"]).get(reverse("home")).content.decode()
