"""The harvester page's heading (status, Start/Abort, counts, last run) reloads itself when the job panel
reports the job finished: it used to keep showing "new · never run" and zeros next to a finished harvest."""

import re

from django.urls import reverse

from .test_views import SLUG, portal  # noqa: F401  (fixture)


def test_heading_reloads_itself_when_a_job_finishes(portal, client_as, cast):  # noqa: F811
    detail = reverse("harvesters:detail", kwargs={"conn": SLUG, "uid": "ha_one"})
    html = client_as(cast["operator"]).get(detail).content.decode()
    head = re.search(r'<div id="harvester-head"([^>]*)>(.*?)<article id="job-panel"', html, re.S)
    assert head, "the heading is one swappable block before the job panel"
    attrs, inside = head.groups()
    assert f'hx-get="{detail}"' in attrs and 'hx-trigger="jobFinished from:body"' in attrs
    assert 'hx-select="#harvester-head"' in attrs and 'hx-disinherit="*"' in attrs  # the action forms keep their own targets
    assert "Start</button>" in inside and 'aria-label="Counts"' in inside and "Last started" in inside
