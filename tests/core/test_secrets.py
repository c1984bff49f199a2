"""Key secrecy: encryption at rest, rotation, wrong key, and a canary that never shows up anywhere."""

import logging

import pytest
import responses
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.core import crypto
from portaladmin.core.logging import redact

from ..conftest import CANARY_KEY


def test_round_trip_and_ciphertext_is_not_plaintext():
    token = crypto.encrypt_secret(CANARY_KEY)
    assert CANARY_KEY not in token
    assert crypto.decrypt_secret(token) == CANARY_KEY


def test_wrong_key_raises_instead_of_returning_ciphertext():
    token = crypto.encrypt_secret(CANARY_KEY)
    with pytest.raises(crypto.KeyDecryptionError):
        crypto.decrypt_secret(token, keys=[Fernet.generate_key().decode()])


def test_model_with_wrong_key_raises(connection, settings):
    settings.PORTALADMIN_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.KeyDecryptionError):
        connection.api_key  # noqa: B018


def test_rotation_command_reencrypts_under_new_key(connection, settings):
    old = list(settings.PORTALADMIN_KEY_ENCRYPTION_KEYS)
    new = Fernet.generate_key().decode()
    settings.PORTALADMIN_KEY_ENCRYPTION_KEYS = [new, *old]
    call_command("rotate_api_keys")
    settings.PORTALADMIN_KEY_ENCRYPTION_KEYS = [new]  # old key retired
    connection.refresh_from_db()
    assert connection.api_key == CANARY_KEY


def test_rotation_refuses_undecryptable_keys(connection, settings):
    from django.core.management.base import CommandError

    settings.PORTALADMIN_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    before = connection.api_key_encrypted
    with pytest.raises(CommandError):
        call_command("rotate_api_keys")
    connection.refresh_from_db()
    assert connection.api_key_encrypted == before


def test_repr_and_str_hide_the_key(connection):
    assert CANARY_KEY not in repr(connection) and CANARY_KEY not in str(connection)


@pytest.mark.parametrize("text", [
    f"Authorization: apikey {CANARY_KEY}", f"GET /x?apikey={CANARY_KEY}&a=1", f"{{'apikey': '{CANARY_KEY}'}}",
    f'"Authorization": "Apikey {CANARY_KEY}"', f"api_key={CANARY_KEY}",
])
def test_redact_patterns(text):
    assert CANARY_KEY not in redact(text)


def test_log_filter_redacts_args_and_exceptions():
    from portaladmin.core.logging import RedactSecretsFilter

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "header %s", (f"apikey {CANARY_KEY}",), None)
    try:
        raise ValueError(f"Authorization: apikey {CANARY_KEY}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RedactSecretsFilter().filter(record)
    assert CANARY_KEY not in record.getMessage()
    assert CANARY_KEY not in (record.exc_text or "")


@responses.activate
def test_canary_never_in_pages_logs_or_audit(client_as, cast, connection, caplog):
    """Walk every connection page as an admin, test the connection (failing), and look for the canary."""
    caplog.set_level(logging.DEBUG)
    responses.get("https://data.example.org/api/automation/v1.0/datasets/", status=401,
                  json={"error_code": "unauthorized", "message": "Invalid key"})
    c = client_as(cast["admin"])
    slug = connection.slug
    pages = [reverse("home"), reverse("portals:list"), reverse("portals:detail", kwargs={"conn": slug}),
             reverse("portals:edit", kwargs={"conn": slug}), reverse("portals:members", kwargs={"conn": slug}),
             reverse("audit:list")]
    bodies = [c.get(url).content.decode() for url in pages]
    bodies.append(c.post(reverse("portals:test", kwargs={"conn": slug})).content.decode())
    bodies.append(c.post(reverse("portals:edit", kwargs={"conn": slug}),
                         {"name": "D", "slug": slug, "base_url": "bad url with spaces", "api_key": CANARY_KEY}).content.decode())
    bodies.append(b"".join(c.get(reverse("audit:export")).streaming_content).decode())
    for body in bodies:
        assert CANARY_KEY not in body
        assert connection.api_key_encrypted not in body
    for record in caplog.records:
        assert CANARY_KEY not in record.getMessage()
    for event in AuditEvent.objects.all():
        assert CANARY_KEY not in f"{event.target} {event.error} {event.extra}"
    assert all(CANARY_KEY not in call.request.url for call in responses.calls)
