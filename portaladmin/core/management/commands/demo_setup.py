"""First-run setup for `make run`: a demo login, two seeded sandbox portals and their connection profiles.

Idempotent: existing users, portals and connections are kept (use --reset-sandbox to reseed).
The demo login comes from PORTALADMIN_DEMO_USER / PORTALADMIN_DEMO_PASSWORD, or is generated once
and stored in var/demo-login.txt so it can be printed again on every start.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from portaladmin.portals.models import Connection

DEMO_PORTALS = [
    # slug, name, datasets, users, groups, harvesters, pages
    ("lyon", "Lyon Open Data (sandbox)", 300, 60, 6, 3, 6),
    ("bretagne", "Bretagne Open Data (sandbox)", 3000, 200, 12, 5, 10),
]


class Command(BaseCommand):
    help = "Create the demo login and (when SANDBOX_ENABLED) two seeded sandbox portals with connections."

    def add_arguments(self, parser):
        parser.add_argument("--reset-sandbox", action="store_true")
        parser.add_argument("--base-url", default=None, help="Where this app is reachable (default PORTALADMIN_SELF_URL).")
        parser.add_argument("--small", action="store_true", help="Seed small portals (tests and quick tries).")

    def handle(self, *args, reset_sandbox, base_url, small, **options):
        username, password = self._demo_login()
        self_url = (base_url or settings.PORTALADMIN_SELF_URL).rstrip("/")
        if settings.SANDBOX_ENABLED:
            self._sandbox(self_url, reset_sandbox, small)
        self.stdout.write(self.style.SUCCESS(f"Log in at {self_url}/ as {username} / {password}"))

    def _demo_login(self):
        import os

        env_user = os.environ.get("PORTALADMIN_DEMO_USER", "admin")
        env_password = os.environ.get("PORTALADMIN_DEMO_PASSWORD", "")
        stored = settings.VAR_DIR / "demo-login.txt"
        user_model = get_user_model()
        user = user_model.objects.filter(username=env_user).first()
        if user is None:
            password = env_password or secrets.token_urlsafe(12)
            user_model.objects.create_superuser(username=env_user, email=f"{env_user}@localhost", password=password)
            if not env_password:
                stored.parent.mkdir(parents=True, exist_ok=True)
                stored.write_text(password)
                stored.chmod(0o600)
            return env_user, password
        if env_password:
            return env_user, env_password
        return env_user, stored.read_text().strip() if stored.exists() else "(password unchanged)"

    def _sandbox(self, self_url: str, reset: bool, small: bool) -> None:
        from portaladmin.sandbox.services import seed_portal

        owner = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        for slug, name, datasets, users, groups, harvesters, pages in DEMO_PORTALS:
            if small:
                datasets, users = min(datasets, 40 if slug == "lyon" else 60), min(users, 20)
            existing = Connection.objects.filter(slug=slug).first()
            if existing is not None and not reset:
                # `make run PORT=…` on another port: the sandbox moved with the app, follow it.
                moved = f"{self_url.rstrip('/')}/sandbox/{slug}"
                if existing.base_url.endswith(f"/sandbox/{slug}") and existing.base_url != moved:
                    existing.base_url = moved
                    existing.save(update_fields=["base_url"])
                    self.stdout.write(f"Sandbox connection {slug!r} now points at {moved}.")
                continue
            key = "sbx-" + secrets.token_urlsafe(24)
            seed_portal(slug, datasets=datasets, users=users, groups=groups, harvesters=harvesters, pages=pages,
                        api_key=key, reset=True)
            conn = Connection.objects.filter(slug=slug).first() or Connection(slug=slug, name=name, created_by=owner)
            conn.base_url = f"{self_url.rstrip('/')}/sandbox/{slug}"
            conn.notes = "A sandbox portal served by portaladmin itself (SANDBOX_ENABLED)."
            conn.set_api_key(key)
            conn.save()
            self.stdout.write(f"Seeded sandbox portal {slug!r} ({datasets} datasets) and its connection profile.")
