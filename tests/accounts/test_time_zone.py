"""Each person chooses their time zone on their account page; every page then shows times in it."""

from django.urls import reverse

from portaladmin.accounts.models import Preferences
from portaladmin.audit.services import audit_record


def test_account_page_offers_the_time_zone_defaulting_to_utc(client_as, cast):
    html = client_as(cast["viewer"]).get(reverse("password_change")).content.decode()
    assert 'name="time_zone"' in html and '<option value="UTC" selected>' in html
    assert 'action="/account/time-zone/"' in html or reverse("time_zone") in html


def test_choosing_a_zone_saves_it_and_pages_show_times_in_it(client_as, cast, connection):
    c = client_as(cast["superuser"])
    audit_record(action="team.user_created", actor=cast["superuser"], target="x")
    before = c.get(reverse("audit:list")).content.decode()
    assert " UTC\">" in before  # the exact time on hover, in UTC until chosen
    response = c.post(reverse("time_zone"), {"time_zone": "Asia/Tokyo"})
    assert response.status_code == 302 and response["Location"] == reverse("password_change")
    assert Preferences.objects.get(user=cast["superuser"]).time_zone == "Asia/Tokyo"
    after = c.get(reverse("audit:list")).content.decode()
    assert " JST\">" in after and " UTC\">" not in after
    assert '<option value="Asia/Tokyo" selected>' in c.get(reverse("password_change")).content.decode()


def test_a_new_session_reads_the_saved_zone(client, cast):
    Preferences.objects.create(user=cast["viewer"], time_zone="America/New_York")
    client.force_login(cast["viewer"])
    audit_record(action="team.user_created", actor=cast["viewer"], target="x")
    client.force_login(cast["superuser"])
    Preferences.objects.create(user=cast["superuser"], time_zone="America/New_York")
    html = client.get(reverse("audit:list")).content.decode()
    assert " EST\">" in html


def test_an_unknown_zone_is_refused_with_a_message_and_nothing_saved(client_as, cast):
    response = client_as(cast["viewer"]).post(reverse("time_zone"), {"time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Preferences.objects.filter(user=cast["viewer"]).exists()
