"""The connection switcher keeps the page where the same page exists on the other connection."""

import pytest
from django.urls import reverse

from portaladmin.portals.models import Membership, Role
from portaladmin.portals.switcher import connection_page_name


@pytest.mark.parametrize("path, name", [
    ("/c/demo/users/", "people:users"),
    ("/c/demo/users/ada/", "people:users"),  # one user → the users of the other portal
    ("/c/demo/groups/gis/edit/", "people:groups"),
    ("/c/demo/datasets/da_1/metadata/", "datasets:list"),
    ("/c/demo/harvesters/ha_1/", "harvesters:list"),
    ("/c/demo/pages/", "pages:list"),
    ("/jobs/", ""),
])
def test_the_nearest_page_that_exists_on_every_connection(db, path, name):
    assert connection_page_name(path) == name


def test_switcher_links_point_at_the_same_page_of_each_connection(cast, client_as, connection, make_connection):
    other = make_connection("other")
    Membership.objects.create(user=cast["viewer"], connection=other, role=Role.VIEWER)
    html = client_as(cast["viewer"]).get(reverse("people:groups", kwargs={"conn": "demo"})).content.decode()
    switcher = html[html.index('<details class="dropdown">'):]
    switcher = switcher[:switcher.index("</details>")]
    assert 'href="/c/other/groups/"' in switcher and 'href="/c/demo/groups/" aria-current="page"' in switcher
    home = client_as(cast["viewer"]).get(reverse("home")).content.decode()  # not under a connection: its datasets
    assert 'href="/c/other/datasets/"' in home
