"""The Team page is for superusers; anyone else logged in gets a 403, not an endless redirect to the log-in page."""

import pytest
from django.test import Client
from django.urls import reverse


@pytest.mark.django_db
def test_logged_in_non_superuser_gets_403_not_a_redirect_loop(client_as, cast):
    client = client_as(cast["admin"])  # admin of a connection, not a superuser
    for response in (client.get(reverse("accounts:users")),
                     client.post(reverse("accounts:toggle-active", kwargs={"pk": cast["viewer"].pk}))):
        assert response.status_code == 403
    cast["viewer"].refresh_from_db()
    assert cast["viewer"].is_active


@pytest.mark.django_db
def test_superuser_sees_the_team_and_anonymous_people_are_sent_to_log_in(client_as, cast):
    assert client_as(cast["superuser"]).get(reverse("accounts:users")).status_code == 200
    response = Client().get(reverse("accounts:users"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
