"""The Team page: a superuser edits a member's name and e-mail, sets their password, deactivates and reactivates
them (never themselves) and unlocks a locked-out account. Everything is audited; nobody else may do any of it."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from portaladmin.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _lock_out(username, settings, ip="10.1.1.1"):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("login"), {"username": username, "password": "wrong"}, REMOTE_ADDR=ip)
    return response


def test_superuser_edits_name_and_email_audited_with_old_and_new(client_as, cast):
    vera = cast["viewer"]
    client = client_as(cast["superuser"])
    page = client.get(reverse("accounts:user", kwargs={"pk": vera.pk}))
    assert page.status_code == 200 and "Name and e-mail" in page.content.decode()
    response = client.post(reverse("accounts:user", kwargs={"pk": vera.pk}),
                           {"first_name": "Vera", "last_name": "Lind", "email": "vera.lind@example.org"}, follow=True)
    assert "first name, last name, email saved" in response.content.decode()
    vera.refresh_from_db()
    assert (vera.get_full_name(), vera.email) == ("Vera Lind", "vera.lind@example.org")
    event = AuditEvent.objects.get(action="team.user_updated", target="vera")
    assert event.actor_name == "root"
    assert event.extra["changes"]["email"] == {"old": "vera@example.org", "new": "vera.lind@example.org"}
    # the same values again: nothing to audit
    client.post(reverse("accounts:user", kwargs={"pk": vera.pk}),
                {"first_name": "Vera", "last_name": "Lind", "email": "vera.lind@example.org"})
    assert AuditEvent.objects.filter(action="team.user_updated").count() == 1
    bad = client.post(reverse("accounts:user", kwargs={"pk": vera.pk}), {"email": "not an address"})
    assert bad.status_code == 200 and "valid email" in bad.content.decode()


def test_superuser_sets_a_password_which_ends_the_members_sessions(client_as, cast):
    vera = cast["viewer"]
    veras_browser = Client()
    veras_browser.force_login(vera)
    assert veras_browser.get(reverse("home")).status_code == 200
    root = client_as(cast["superuser"])
    weak = root.post(reverse("accounts:set-password", kwargs={"pk": vera.pk}),
                     {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200 and "too short" in weak.content.decode()
    response = root.post(reverse("accounts:set-password", kwargs={"pk": vera.pk}),
                         {"new_password1": "Fresh-Password-77", "new_password2": "Fresh-Password-77"})
    assert response.status_code == 302
    vera.refresh_from_db()
    assert vera.check_password("Fresh-Password-77")
    assert veras_browser.get(reverse("home")).status_code == 302  # her old session is over
    assert AuditEvent.objects.filter(action="team.password_set", target="vera", actor_name="root").count() == 1
    assert "Fresh-Password-77" not in str(list(AuditEvent.objects.values()))


def test_my_own_password_is_not_set_from_the_team_page(client_as, cast):
    root = cast["superuser"]
    client = client_as(root)
    assert "your account page" in client.get(reverse("accounts:user", kwargs={"pk": root.pk})).content.decode()
    response = client.post(reverse("accounts:set-password", kwargs={"pk": root.pk}),
                           {"new_password1": "Fresh-Password-77", "new_password2": "Fresh-Password-77"})
    assert response.status_code == 302 and response["Location"] == reverse("password_change")
    root.refresh_from_db()
    assert not root.check_password("Fresh-Password-77")


def test_deactivate_and_reactivate_are_audited_but_not_on_myself(client_as, cast):
    root, vera = cast["superuser"], cast["viewer"]
    client = client_as(root)
    for expected in (False, True):
        client.post(reverse("accounts:toggle-active", kwargs={"pk": vera.pk}))
        vera.refresh_from_db()
        assert vera.is_active is expected
    assert list(AuditEvent.objects.filter(target="vera").order_by("id").values_list("action", flat=True)) == [
        "team.user_deactivated", "team.user_activated"]
    response = client.post(reverse("accounts:toggle-active", kwargs={"pk": root.pk}), follow=True)
    assert "You cannot deactivate yourself." in response.content.decode()
    root.refresh_from_db()
    assert root.is_active


def test_lockout_page_speaks_minutes_and_superuser_unlocks_from_the_team_page(client_as, cast, settings, make_user):
    make_user("bob", password="right-Password-1")
    locked = _lock_out("bob", settings)
    text = locked.content.decode()
    assert "Try again in 15 minutes" in text and "PT15M" not in text

    root = client_as(cast["superuser"])
    team = root.get(reverse("accounts:users")).content.decode()
    bob = get_user_model().objects.get(username="bob")
    assert "locked out" in team and reverse("accounts:unlock", kwargs={"pk": bob.pk}) in team
    response = root.post(reverse("accounts:unlock", kwargs={"pk": bob.pk}), {"back": "team"}, follow=True)
    assert "bob can log in again." in response.content.decode()
    assert "locked out" not in response.content.decode()
    event = AuditEvent.objects.get(action="team.user_unlocked", target="bob")
    assert event.actor_name == "root" and event.extra["attempts_removed"] >= 1

    login = Client().post(reverse("login"), {"username": "bob", "password": "right-Password-1"}, REMOTE_ADDR="10.1.1.1")
    assert login.status_code == 302 and login["Location"] == reverse("home")


@pytest.mark.parametrize("who", ["admin", "operator", "viewer", "outsider"])
def test_nobody_but_superusers_manages_members(client_as, cast, who):
    vera = cast["viewer"] if who != "viewer" else cast["operator"]
    client = client_as(cast[who])
    kw = {"pk": vera.pk}
    responses = [client.get(reverse("accounts:user", kwargs=kw)),
                 client.post(reverse("accounts:user", kwargs=kw), {"first_name": "X", "email": "x@example.org"}),
                 client.post(reverse("accounts:set-password", kwargs=kw),
                             {"new_password1": "Fresh-Password-77", "new_password2": "Fresh-Password-77"}),
                 client.post(reverse("accounts:unlock", kwargs=kw))]
    assert [r.status_code for r in responses] == [403] * 4
    vera.refresh_from_db()
    assert vera.first_name == "" and not vera.check_password("Fresh-Password-77")
    assert not AuditEvent.objects.filter(action__startswith="team.").exists()
