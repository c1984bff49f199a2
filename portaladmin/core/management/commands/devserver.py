"""Start the web server, a Celery worker and Celery beat in one foreground command.

Ctrl-C (or SIGTERM) stops all three; if one of them dies, the others are stopped too. The port is checked
first: a `make run` restarted right after Ctrl-C waits a few seconds for the previous server to let it go, and
a port that another program holds is said in one line (which port, how to choose another), not a traceback.
"""

import errno
import os
import signal
import socket
import subprocess  # nosec B404
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def sync_unsynced_catalogues() -> int:
    """Request a first catalogue sync of every connection that never had one (the periodic sync would only
    come CATALOGUE_SYNC_MINUTES later, leaving a fresh `make run` with empty dataset lists)."""
    from portaladmin.datasets.models import CatalogueSync
    from portaladmin.datasets.services import catalogue_sync_request
    from portaladmin.portals.models import Connection

    count = 0
    for connection in Connection.objects.exclude(pk__in=CatalogueSync.objects.values("connection_id")):
        catalogue_sync_request(connection=connection, trigger=CatalogueSync.Trigger.PERIODIC)
        count += 1
    return count


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310  # nosec B310
            return response.status == 200
    except OSError:
        return False


# A previous run's web server may take a few seconds to let its port go (open keep-alive connections); its
# devserver kills whatever is left after STOP_SECONDS, so waiting a little longer always covers it.
STOP_SECONDS = 10
PORT_WAIT_SECONDS = STOP_SECONDS + 2.0
INTERRUPT_SETTLE_SECONDS = 5.0


def port_free(host: str, port: int) -> bool:
    """Could the web server bind host:port now? Bound the way runserver binds (SO_REUSEADDR), so the closed
    connections of a previous run (TIME_WAIT) do not count as taking it; only a listening program does."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def wait_for_port(host: str, port: int, *, seconds: float = PORT_WAIT_SECONDS, sleep=time.sleep,
                  clock=time.monotonic) -> bool:
    """True once host:port is free, False if it is still taken after `seconds`."""
    deadline = clock() + seconds
    while not port_free(host, port):
        if clock() >= deadline:
            return False
        sleep(0.2)
    return True


def port_taken_message(host: str, port: int) -> str:
    return (f"Port {port} on {host} is already in use by another program (still taken after waiting "
            f"{PORT_WAIT_SECONDS:.0f} s). Stop that program, or start portaladmin on another port: "
            f"PORT={port + 1} make run  (or: manage.py devserver --port {port + 1})")


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat together (development)."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--concurrency", default="2")

    def _print_login(self, host, port) -> None:
        """The demo login again once everything answers: the lines printed before start-up have scrolled away."""
        stored = settings.VAR_DIR / "demo-login.txt"
        user = os.environ.get("PORTALADMIN_DEMO_USER", "admin")
        password = os.environ.get("PORTALADMIN_DEMO_PASSWORD", "") or (
            stored.read_text().strip() if stored.exists() else "")
        if password:
            self.stdout.write(self.style.SUCCESS(f"Ready: log in at http://{host}:{port}/ as {user} / {password}"))

    def handle(self, *args, host, port, concurrency, **options):
        try:
            number = int(port)
        except ValueError:
            raise CommandError(f"The port must be a number, not {port!r}.") from None
        if not port_free(host, number):
            self.stdout.write(f"Port {number} is still taken; waiting up to {PORT_WAIT_SECONDS:.0f} s for it…")
            if not wait_for_port(host, number):
                self.stderr.write(self.style.ERROR(port_taken_message(host, number)))
                sys.exit(1)
        (settings.VAR_DIR / "broker" / "queue").mkdir(parents=True, exist_ok=True)
        (settings.VAR_DIR / "broker" / "processed").mkdir(parents=True, exist_ok=True)
        python = sys.executable
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if not os.environ.get("PORTALADMIN_SELF_URL"):
            env["PORTALADMIN_SELF_URL"] = f"http://{host}:{port}"  # links in job e-mails point at this server
        worker_extra = []
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            # The filesystem transport has no fanout exchange: no gossip, mingle or remote control.
            worker_extra = ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        commands = {
            "web": [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
            "worker": [python, "-m", "celery", "-A", "portaladmin", "worker", "--loglevel=INFO",
                       f"--concurrency={concurrency}", "-Q", "celery,bulk,harvest", "-n", "dev@%h", *worker_extra],
            "beat": [python, "-m", "celery", "-A", "portaladmin", "beat", "--loglevel=INFO",
                     "-s", str(settings.VAR_DIR / "celerybeat-schedule")],
        }
        # Fixed argv (this Python, manage.py, celery), no shell.
        procs = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}  # noqa: S603  # nosec B603
        self.stdout.write(self.style.SUCCESS(f"portaladmin is running at http://{host}:{port}/ (Ctrl-C stops it)"))
        stopping = False
        interrupted = False

        def stop(signum, _frame):
            nonlocal stopping, interrupted
            stopping = True
            interrupted = interrupted or signum == signal.SIGINT

        # Ctrl-C reaches the children too (same process group): note it, so their exit is not reported as a crash.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        health_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/healthz/"  # noqa: S104  # nosec B104
        first_sync_by = time.monotonic() + 120  # the sandbox portals answer once the web server does
        try:
            while not stopping:
                if first_sync_by and time.monotonic() < first_sync_by and _answers(health_url):
                    first_sync_by = 0
                    if n := sync_unsynced_catalogues():
                        self.stdout.write(f"First catalogue sync requested for {n} connection(s).")
                    self._print_login(host, port)
                dead = [name for name, p in procs.items() if p.poll() is not None]
                if dead and not stopping:
                    if "web" in dead and not port_free(host, number):  # taken between our check and its bind
                        self.stderr.write(self.style.ERROR(port_taken_message(host, number)))
                    self.stderr.write(f"{', '.join(dead)} stopped; stopping the others.")
                    break
                time.sleep(0.5)
        except KeyboardInterrupt:
            interrupted = True
        deadline = time.monotonic() + STOP_SECONDS
        if interrupted:
            # A terminal's Ctrl-C reached every child already. A second signal would land in the middle of their
            # exit handlers and print a KeyboardInterrupt traceback, so give them a moment to finish on their own
            # (a `kill -INT` of this process alone reaches no child: they get their signal below).
            settle_by = time.monotonic() + INTERRUPT_SETTLE_SECONDS
            while time.monotonic() < settle_by and any(p.poll() is None for p in procs.values()):
                time.sleep(0.1)
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
        self.stdout.write("Stopped web server, worker and beat.")
