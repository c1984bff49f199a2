"""The activity filter bar's free-text boxes say what they filter on (they were two blank, unlabelled inputs)."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_person_and_action_boxes_are_labelled(client_as, cast):
    html = client_as(cast["superuser"]).get(reverse("audit:list")).content.decode()
    assert 'placeholder="Person (user name)"' in html and 'aria-label="Person"' in html
    assert 'placeholder="Action, e.g. dataset. or auth.login"' in html and 'aria-label="Action"' in html
