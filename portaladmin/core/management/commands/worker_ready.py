"""Readiness check for a worker container: exit 0 when this host's Celery worker answers a ping."""

import socket
import sys

from django.core.management.base import BaseCommand

from portaladmin.celery import app


class Command(BaseCommand):
    help = "Exit 0 if a Celery worker on this host answers a ping (and the broker is reachable)."

    def add_arguments(self, parser):
        parser.add_argument("--any", action="store_true", help="Accept any worker, not only this host's.")
        parser.add_argument("--timeout", type=float, default=5.0)

    def handle(self, *args, any, timeout, **options):
        try:
            replies = app.control.ping(timeout=timeout) or []
        except Exception as exc:  # noqa: BLE001 - report, don't crash
            self.stderr.write(f"broker unreachable: {type(exc).__name__}")
            sys.exit(1)
        names = [name for reply in replies for name in reply]
        host = socket.gethostname()
        mine = [n for n in names if any or n.endswith("@" + host)]
        if not mine:
            self.stderr.write(f"no worker answered (seen: {', '.join(names) or 'none'})")
            sys.exit(1)
        self.stdout.write(f"ready: {', '.join(mine)}")
