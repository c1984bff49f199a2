from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print a new Fernet key for PORTALADMIN_KEY_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        self.stdout.write(Fernet.generate_key().decode())
