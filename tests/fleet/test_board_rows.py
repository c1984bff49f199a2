"""The board's rows built in Python (fleet/rows.py) give the HTML the template loop gave, for every branch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import timezone

from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.fleet.rows import board_rows_html, connection_urls

# The former loop body of templates/fleet/datasets.html, verbatim: what the rows must still read as.
FORMER_ROWS = """{% for d in rows %}
        <tr data-row="{{ d.connection.slug }}:{{ d.uid }}">
          <td>{% if d.connection_id in operate_on %}<input type="checkbox" name="sel" value="{{ d.connection_id }}:{{ d.uid }}" aria-label="Select {{ d.dataset_id }}">{% endif %}</td>
          <td><a href="{{ d.list_url }}">{{ d.connection.name }}</a></td>
          <td class="mono"><a href="{{ d.detail_url }}">{{ d.dataset_id }}</a></td>
          <td>{{ d.title|truncatechars:80 }}</td>
          <td class="nowrap">{% if d.updated_at %}{{ d.updated_at|when }}{% else %}—{% endif %}</td>
          <td><span class="badge badge-{{ d.status }}">{% if d.status == "unknown" %}not checked yet{% else %}{{ d.status }}{% endif %}</span>{% if d.status_checked_at %} <span class="muted nowrap">checked {{ d.status_checked_at|when }}</span>{% endif %}{% if d.status_message %} <span class="muted" title="{{ d.status_message }}">{{ d.status_message|truncatechars:60 }}</span>{% endif %}{% if d.is_late %} <span class="badge badge-late" title="Data last modified {{ d.modified|date:'Y-m-d' }}: older than its update frequency allows">late</span>{% endif %}</td>
          <td><span class="badge badge-{{ d.publication }}">{{ d.publication }}</span>{% if d.is_restricted %} <span class="badge">restricted</span>{% endif %}</td>
        </tr>
      {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
def test_rows_match_the_former_template(connection, make_connection, zone):
    other = make_connection("oth-er", name='Town <"Hall"> & co')
    now = timezone.now()
    long_title = "Cafe\u0301 budget " * 10  # longer than 80 characters, with a combining accent
    rows = [
        DatasetSnapshot(connection=connection, uid="da_1", dataset_id="plain", title="Short title", status="idle",
                        is_published=True, updated_at=now - timedelta(minutes=3), status_checked_at=now),
        DatasetSnapshot(connection=other, uid="da_<2>", dataset_id='x"&<y>', title=long_title, status="error",
                        status_message="Failed: <b>'bad'</b> & " + "worse " * 20, is_published=False,
                        is_restricted=True, status_checked_at=now - timedelta(days=40),
                        late_at=now - timedelta(days=1), modified=now.replace(hour=23, minute=30) - timedelta(days=90)),
        DatasetSnapshot(connection=connection, uid="da_3", dataset_id="never", title="Cafe\u0301", status="unknown",
                        is_published=None, updated_at=None, late_at=now + timedelta(days=1)),
        DatasetSnapshot(connection=other, uid="da_4", dataset_id="late-no-date", title="x" * 80, status="processing",
                        late_at=now - timedelta(hours=1), modified=None, status_message=""),
    ]
    for row in rows:
        row.connection = connection if row.connection_id == connection.pk else other
    operate_on = {connection.pk}
    with timezone.override(zone):
        new = "".join(board_rows_html(rows, urls=connection_urls([connection, other]), operate_on=operate_on))
        # the rows now carry the links the view used to set
        former = engines["django"].from_string(FORMER_ROWS).render({"rows": rows, "operate_on": operate_on})
    assert new == former
    assert rows[0].detail_url == reverse("datasets:detail", kwargs={"conn": connection.slug, "uid": "da_1"})
    assert rows[1].list_url == reverse("datasets:list", kwargs={"conn": other.slug})
    assert 'name="sel"' in new and new.count('name="sel"') == 2  # only the rows on the operated connection
    assert "badge-late" in new and "Data last modified" in new and "…" in new


def test_board_partial_asks_no_permission_but_the_empty_overview_still_offers_to_add(cast, client_as, make_user):
    """can_add_connection is lazy (portals.context_processors): a board fragment never asks the auth backend, and
    the overview of someone with no connection still offers "Add a connection" when they may add one."""
    from django.contrib.auth.models import Permission
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    c = client_as(cast["operator"])
    with CaptureQueriesContext(db) as queries:
        response = c.get(reverse("fleet:datasets"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert not [q for q in queries.captured_queries if "auth_permission" in q["sql"]]

    allowed, refused = make_user("adder"), make_user("nobody")
    allowed.user_permissions.add(Permission.objects.get(codename="add_connection", content_type__app_label="portals"))
    html = client_as(allowed).get(reverse("home")).content.decode().split('id="overview"')[1]
    assert f'<a href="{reverse("portals:create")}">Add a connection</a>' in html
    html = client_as(refused).get(reverse("home")).content.decode().split('id="overview"')[1]
    assert "Ask an administrator to add you to one." in html
