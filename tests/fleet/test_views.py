"""Who may see and do what on the fleet pages: viewer / operator / admin / outsider / anonymous / superuser."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portaladmin.jobs.models import Job, JobStatus
from portaladmin.portals.models import Role

from .conftest import figure

PAGES = ["home", "fleet:datasets", "fleet:harvesters", "fleet:people"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_login(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name, kwargs", [
    ("fleet:datasets-bulk", {}), ("fleet:harvesters-refresh", {}), ("fleet:people-offboard", {}),
    ("fleet:watchdog-dataset-abort", {"conn": "demo", "uid": "da_1"}),
    ("fleet:watchdog-harvester-abort", {"conn": "demo", "uid": "h1"}),
    ("fleet:watchdog-job-retry", {"job_id": 1}), ("fleet:watchdog-job-cancel", {"job_id": 1}),
])
def test_anonymous_posts_are_sent_to_login(client, connection, name, kwargs):
    response = client.post(reverse(name, kwargs=kwargs), {})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Job.objects.exists()


def test_anonymous_offboard_page_is_sent_to_login(client, db):
    response = client.get(reverse("fleet:offboard", kwargs={"job_id": 1}))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["viewer", "operator", "admin", "outsider", "superuser"])
@pytest.mark.parametrize("name", PAGES)
def test_every_member_gets_the_pages(client_as, cast, name, who):
    assert client_as(cast[who]).get(reverse(name)).status_code == 200


@pytest.mark.parametrize("who, sees", [("viewer", True), ("operator", True), ("admin", True), ("outsider", False),
                                       ("superuser", True)])
def test_overview_cards_only_for_connections_with_a_role(client_as, cast, connection, other, make_snapshots,
                                                         who, sees):
    make_snapshots(connection, 3)
    make_snapshots(other, 4)
    html = client_as(cast[who]).get(reverse("home")).content.decode()
    assert ('id="card-demo"' in html) is sees
    assert ('id="card-other"' in html) is (who == "superuser")
    assert "Other portal" not in html or who == "superuser"


def test_overview_partial_is_only_the_fragment(client_as, cast, connection):
    c = client_as(cast["viewer"])
    full = c.get(reverse("home")).content.decode()
    part = c.get(reverse("home"), headers={"HX-Request": "true"})
    body = part.content.decode()
    assert "<html" in full and 'id="overview"' in full
    assert "<html" not in body and body.lstrip().startswith('<div id="overview"')
    assert 'hx-trigger="every 15s"' in body  # the fragment keeps polling itself
    assert "HX-Request" in part["Vary"]


def test_board_partial_is_only_the_table(client_as, cast, connection, make_snapshots):
    make_snapshots(connection, 3)
    c = client_as(cast["viewer"])
    part = c.get(reverse("fleet:datasets") + "?q=demo-00001", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in part and part.lstrip().startswith('<div id="board"')
    assert "demo-00001" in part and "demo-00002" not in part
    assert "<html" in c.get(reverse("fleet:datasets")).content.decode()


def test_harvester_and_people_partials(client_as, cast, connection, make_harvester):
    make_harvester(connection, "h1")
    c = client_as(cast["viewer"])
    part = c.get(reverse("fleet:harvesters"), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in part and part.lstrip().startswith('<div id="harvester-board"')
    part = c.get(reverse("fleet:people"), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in part and part.lstrip().startswith('<div id="people-results"')


@pytest.mark.parametrize("who, buttons", [("viewer", False), ("operator", True), ("admin", True),
                                          ("superuser", True)])
def test_board_action_buttons_by_role(client_as, cast, connection, make_snapshots, who, buttons):
    make_snapshots(connection, 2)
    html = client_as(cast[who]).get(reverse("fleet:datasets")).content.decode()
    assert "demo-00000" in html
    assert ("Apply to selected" in html) is buttons
    assert ('name="sel"' in html) is buttons


def test_board_rows_of_viewer_connections_have_no_checkbox(client_as, cast, connection, other, make_snapshots):
    from portaladmin.portals.models import Membership

    Membership.objects.create(user=cast["operator"], connection=other, role=Role.VIEWER)
    make_snapshots(connection, 1)
    make_snapshots(other, 1)
    html = client_as(cast["operator"]).get(reverse("fleet:datasets")).content.decode()
    assert f'value="{connection.pk}:da_demo_0"' in html
    assert f'value="{other.pk}:da_other_0"' not in html and "other-00000" in html


@pytest.fixture
def stuck(connection, make_snapshots, make_harvester, make_job, cast):
    old = timezone.now() - timedelta(hours=5)
    make_snapshots(connection, 1, prefix="stuck", status="processing", status_since=old, status_checked_at=old)
    make_harvester(connection, "hv-stuck", status="processing", started_minutes_ago=300)
    late = make_job([connection], status=JobStatus.WAITING, by=cast["operator"],
                    deadline=timezone.now() - timedelta(minutes=5))
    failed = make_job([connection], status=JobStatus.PARTIALLY_FAILED, by=cast["operator"], failed=1, total=2,
                      finished_minutes_ago=10)
    return {"late": late, "failed": failed}


@pytest.mark.parametrize("who, buttons", [("viewer", False), ("operator", True), ("admin", True)])
def test_watchdog_on_the_overview(client_as, cast, stuck, who, buttons):
    html = client_as(cast[who]).get(reverse("home")).content.decode()
    assert 'data-stuck-dataset="da_stuck_0"' in html
    assert 'data-stuck-harvester="hv-stuck"' in html
    assert f'data-stuck-job="{stuck["late"].pk}"' in html
    assert f'data-failed-job="{stuck["failed"].pk}"' in html
    assert (">Abort</button>" in html) is buttons
    assert (">Retry failed</button>" in html) is buttons
    assert (">Cancel</button>" in html) is buttons


def test_watchdog_threshold_is_a_setting(client_as, cast, stuck, settings):
    settings.WATCHDOG_BUSY_MINUTES = 600
    html = client_as(cast["operator"]).get(reverse("home")).content.decode()
    assert 'data-stuck-dataset="da_stuck_0"' not in html and 'data-stuck-harvester="hv-stuck"' not in html


@pytest.mark.parametrize("who, expected", [("viewer", 403), ("outsider", 404), ("operator", 302), ("admin", 302)])
def test_watchdog_posts_by_role(client_as, cast, connection, stuck, who, expected):
    c = client_as(cast[who])
    before = Job.objects.count()
    urls = [reverse("fleet:watchdog-dataset-abort", kwargs={"conn": "demo", "uid": "da_stuck_0"}),
            reverse("fleet:watchdog-harvester-abort", kwargs={"conn": "demo", "uid": "hv-stuck"}),
            reverse("fleet:watchdog-job-retry", kwargs={"job_id": stuck["failed"].pk})]
    for url in urls:
        assert c.post(url).status_code == expected, url
    made = Job.objects.count() - before
    assert made == (3 if expected == 302 else 0)
    if expected == 302:
        kinds = set(Job.objects.order_by("-pk").values_list("kind", flat=True)[:3])
        assert kinds == {"dataset.abort", "harvester.abort", "dataset.publish"}


@pytest.mark.parametrize("who, expected", [("viewer", 403), ("outsider", 404), ("operator", 302)])
def test_watchdog_cancel_by_role(client_as, cast, stuck, who, expected):
    response = client_as(cast[who]).post(reverse("fleet:watchdog-job-cancel", kwargs={"job_id": stuck["late"].pk}))
    assert response.status_code == expected
    stuck["late"].refresh_from_db()
    assert (stuck["late"].cancel_requested_at is not None) is (expected == 302)


def test_watchdog_get_is_not_allowed(client_as, cast, stuck):
    url = reverse("fleet:watchdog-dataset-abort", kwargs={"conn": "demo", "uid": "da_stuck_0"})
    assert client_as(cast["admin"]).get(url).status_code == 405


@pytest.mark.parametrize("who, expected", [("viewer", 302), ("operator", 302), ("outsider", 404)])
def test_harvester_refresh_is_a_read_any_member_may_ask(client_as, cast, connection, who, expected,
                                                        django_capture_on_commit_callbacks):
    from unittest import mock

    with mock.patch("portaladmin.fleet.tasks.harvester_refresh_task.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            response = client_as(cast[who]).post(reverse("fleet:harvesters-refresh"))
    assert response.status_code == expected
    if expected == 302:
        delay.assert_called_once_with(connection_id=connection.pk)
    else:
        delay.assert_not_called()


@pytest.mark.parametrize("who, expected", [("viewer", 403), ("operator", 403), ("outsider", 404), ("admin", 302)])
def test_offboard_post_by_role(client_as, cast, connection, who, expected):
    response = client_as(cast[who]).post(reverse("fleet:people-offboard"),
                                         {"person": "jdoe", "account": [f"{connection.pk}:jdoe"]})
    assert response.status_code == expected
    assert Job.objects.filter(kind="user.offboard").exists() is (expected == 302)


def test_offboard_page_is_hidden_from_outsiders(client_as, cast, connection, make_job):
    job = make_job([connection], kind="user.offboard", status=JobStatus.SUCCEEDED, by=cast["admin"])
    url = reverse("fleet:offboard", kwargs={"job_id": job.pk})
    assert client_as(cast["outsider"]).get(url).status_code == 404
    assert client_as(cast["viewer"]).get(url).status_code == 200
    part = client_as(cast["viewer"]).get(url, headers={"HX-Request": "true"})
    assert part.status_code == 286  # finished: htmx stops polling
    assert "<html" not in part.content.decode()


def test_people_offboard_button_only_for_admins(client_as, cast):
    from portaladmin.fleet.selectors import PersonMatch, PersonResult

    def fake(*, user, query):
        from portaladmin.portals.permissions import connections_visible_to, role_for

        conn = connections_visible_to(user).first()
        return [PersonResult(connection=conn, role=role_for(user, conn), matches=[
            PersonMatch(username="jdoe", email="jdoe@example.org", name="J Doe", is_active=True,
                        permissions=["edit_dataset"], groups=[{"uid": "g1", "title": "Editors"}], last_seen_at=None)])]

    from unittest import mock

    with mock.patch("portaladmin.fleet.selectors.person_lookup", side_effect=fake):
        for who, sees in (("viewer", False), ("operator", False), ("admin", True)):
            html = client_as(cast[who]).get(reverse("fleet:people") + "?q=jdoe").content.decode()
            assert "Editors" in html and "edit_dataset" in html
            assert ("Offboard from the selected portals" in html) is sees, who
            assert ('name="account"' in html) is sees, who


def test_overview_figures_link_to_filtered_lists(client_as, cast, connection, make_snapshots):
    make_snapshots(connection, 2, status="error", is_published=False)
    html = client_as(cast["viewer"]).get(reverse("home")).content.decode()
    assert figure(html, "demo", "in-error") == "2"
    assert 'href="/c/demo/datasets/?status=error" data-figure="in-error"' in html
    assert 'href="/c/demo/datasets/?published=no" data-figure="unpublished"' in html
    assert 'href="/c/demo/datasets/?status=busy" data-figure="processing"' in html


@pytest.mark.parametrize("name", PAGES)
def test_back_button_history_restore_gets_the_whole_page(client_as, cast, name):
    # hx-push-url + historyCacheSize 0: on Back, htmx re-fetches the URL with both headers and swaps <body>
    response = client_as(cast["viewer"]).get(reverse(name), headers={"HX-Request": "true",
                                                                     "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()
