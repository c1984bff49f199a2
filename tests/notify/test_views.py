"""Rule pages: only my rules, only my connections, form errors that keep what was typed, the test button."""

import pytest
from django.urls import reverse

from portaladmin.notify.models import Channel, Delivery, Rule
from portaladmin.portals.models import Role


@pytest.fixture
def two(make_connection, make_user):
    lyon, rennes = make_connection("lyon", name="Lyon"), make_connection("rennes", name="Rennes")
    return lyon, rennes, make_user("lea", role=Role.VIEWER, connection=lyon)


def test_create_an_email_rule_on_my_connection(client_as, two):
    lyon, rennes, lea = two
    client = client_as(lea)
    page = client.get(reverse("notify:create"))
    assert page.status_code == 200 and "Lyon" in page.content.decode() and "Rennes" not in page.content.decode()
    answer = client.post(reverse("notify:create"), {
        "name": "lyon failures", "events": ["job.failed", "job.partially_failed"], "connections": [lyon.slug],
        "channel": "email", "schedule": "immediate", "digest_hour": 8, "timezone": "Europe/Paris", "active": "on"})
    rule = Rule.objects.get()
    assert answer.status_code == 302 and answer["Location"] == rule.get_absolute_url()
    assert rule.owner == lea and list(rule.connections.all()) == [lyon] and rule.recipient == "lea@example.org"
    assert "lyon failures" in client.get(reverse("notify:list")).content.decode()


def test_bad_input_gets_a_clear_message_and_keeps_what_was_typed(client_as, two, settings):
    lyon, rennes, lea = two
    client = client_as(lea)
    base = {"name": "hook", "events": ["job.failed"], "channel": "webhook", "schedule": "digest",
            "digest_hour": 8, "timezone": "UTC"}
    answer = client.post(reverse("notify:create"), base | {"webhook_url": "ftp://hooks.example.org/x",
                                                            "email": "not an address"})
    text = answer.content.decode()
    assert answer.status_code == 200 and "Only https:// webhook URLs are accepted." in text
    assert "Enter a valid email address." in text and 'value="ftp://hooks.example.org/x"' in text
    settings.PORTALS_ALLOW_PRIVATE_NETWORKS = False
    answer = client.post(reverse("notify:create"), base | {"webhook_url": "https://127.0.0.1/hook"})
    assert "not a public internet address" in answer.content.decode() and not Rule.objects.exists()
    answer = client.post(reverse("notify:create"), base | {"webhook_url": "https://hooks.example.org/x",
                                                            "connections": [rennes.slug], "digest_hour": 24})
    text = answer.content.decode()
    assert "Select a valid choice" in text and "Choose an hour from 0 to 23." in text and not Rule.objects.exists()


def test_someone_elses_rule_is_a_404_and_the_test_button_logs_a_delivery(client_as, two, make_user, rung):
    lyon, rennes, lea = two
    rule = Rule.objects.create(owner=lea, name="mine", events=["job.failed"], channel=Channel.EMAIL)
    other = client_as(make_user("oscar", role=Role.ADMIN, connection=lyon))
    for name in ("notify:detail", "notify:edit"):
        assert other.get(reverse(name, kwargs={"rule_id": rule.pk})).status_code == 404
    for name in ("notify:test", "notify:delete", "notify:secret"):
        assert other.post(reverse(name, kwargs={"rule_id": rule.pk})).status_code == 404
    assert Rule.objects.filter(pk=rule.pk).exists() and not Delivery.objects.exists()
    mine = client_as(lea)
    assert mine.post(reverse("notify:test", kwargs={"rule_id": rule.pk})).status_code == 302
    delivery = Delivery.objects.get()
    assert delivery.rule == rule and delivery.event.kind == "test"
    page = mine.get(rule.get_absolute_url()).content.decode()
    assert "Test · portaladmin rule “mine” works" in page and "Pending" in page
