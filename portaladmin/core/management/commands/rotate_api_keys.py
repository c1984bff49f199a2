"""Re-encrypt every stored portal API key under the first key of PORTALADMIN_KEY_ENCRYPTION_KEYS.

Rotation: put the new Fernet key first in PORTALADMIN_KEY_ENCRYPTION_KEYS (keeping the old one after it),
run this command, then remove the old key from the environment.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portaladmin.core.crypto import KeyDecryptionError, rotate_secret
from portaladmin.portals.models import Connection


class Command(BaseCommand):
    help = "Re-encrypt all connection API keys with the newest encryption key."

    def handle(self, *args, **options):
        done = 0
        with transaction.atomic():
            for conn in Connection.objects.select_for_update().order_by("pk"):
                try:
                    conn.api_key_encrypted = rotate_secret(conn.api_key_encrypted)
                except KeyDecryptionError:
                    raise CommandError(
                        f"The key of connection {conn.slug!r} cannot be decrypted with any configured key; "
                        "nothing was changed."
                    ) from None
                conn.save(update_fields=["api_key_encrypted"])
                done += 1
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {done} API key(s) under the newest key."))
