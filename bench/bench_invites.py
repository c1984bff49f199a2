"""Benchmark: 5,000 invites on a sandbox portal with 100 ms of injected latency per request.

Prints: requests sent (goal ≤ 50 at 100 rows per request), wall time, and portaladmin's own share of the
wall time (goal ≤ 10%): everything that is not waiting for the portal's answer (parsing and validating the
list, creating the job and its items, claiming chunks, recording each row's result and its audit event).

It runs on its own: a fresh SQLite file in a temporary directory, the sandbox portal served by
`manage.py runserver` in a subprocess (real HTTP), and the job engine driven in this process (one chunk per
doorbell, as a worker would). Usage: .venv/bin/python bench/bench_invites.py [--rows 5000] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=100)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-invites-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update({"DJANGO_SETTINGS_MODULE": "portaladmin.settings", "PORTALADMIN_VAR_DIR": tmp, "DEBUG": "True",
                "LOG_LEVEL": "WARNING", "INVITE_CHUNK_SIZE": env.get("INVITE_CHUNK_SIZE", "100")})
    os.environ.update(env)
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(key, None)

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
                               "--skip-checks"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        return _run(args, port, settings, get_user_model())
    finally:
        server.terminate()
        server.wait(timeout=10)


def _run(args, port, settings, user_model) -> int:
    from django.db import transaction

    from portaladmin.jobs import engine, tasks
    from portaladmin.jobs.models import Job
    from portaladmin.people import services
    from portaladmin.portals.client import base as client_base
    from portaladmin.portals.models import Connection, Membership, Role
    from portaladmin.sandbox.services import request_counts, reset_request_log, seed_portal

    name = "bench-invites"
    _, key = seed_portal(name, datasets=0, users=2, groups=2, harvesters=0, pages=0,
                         api_key="bench-invites-key-0123456789", reset=True, latency_ms=args.latency_ms)
    conn = Connection(slug=name, name=name, base_url=f"http://127.0.0.1:{port}/sandbox/{name}")
    conn.set_api_key(key)
    conn.save()
    actor = user_model.objects.create_user("bench", password="bench-Secret-123")
    Membership.objects.create(user=actor, connection=conn, role=Role.OPERATOR)

    # Time spent waiting for the portal: every HTTP call of the client, measured around the request itself.
    waited = {"seconds": 0.0, "calls": 0}
    original = client_base.BaseClient._request

    def timed(self, *a, **kw):
        started = time.perf_counter()
        try:
            return original(self, *a, **kw)
        finally:
            waited["seconds"] += time.perf_counter() - started
            waited["calls"] += 1

    client_base.BaseClient._request = timed
    doorbells: list[list[int]] = []
    tasks.enqueue_process = lambda item_ids: doorbells.append(list(item_ids))

    text = "email;first_name;last_name\n" + "".join(
        f"bench{i:05d}@example.org;Bench;User {i}\n" for i in range(args.rows))
    reset_request_log(name)
    wall_started = time.perf_counter()
    draft = services.invite_preview(actor=actor, connection=conn, connections=[], text=text)
    preview_done = time.perf_counter()
    waited["preview"] = waited["seconds"]
    with transaction.atomic():
        job = services.draft_start(actor=actor, draft=draft)
    job_created = time.perf_counter()
    while doorbells:
        engine.items_process(doorbells.pop(0))
    wall = time.perf_counter() - wall_started
    client_base.BaseClient._request = original

    job = Job.objects.get(pk=job.pk)
    posts = request_counts(name, method="POST", path_contains="/users/invite/")
    total_requests = request_counts(name)
    own = wall - waited["seconds"]
    chunk = int(settings.INVITE_CHUNK_SIZE)
    print(f"invites: {args.rows} rows, {chunk} per request, {args.latency_ms} ms injected latency per request")
    print(f"job #{job.pk}: {job.status}, {job.succeeded_count} invited, {job.failed_count} failed")
    print(f"requests sent: {posts} POST /users/invite/ (goal ≤ {-(-args.rows // 100)} at 100 per request: "
          f"{'OK' if posts <= -(-args.rows // 100) else 'MISSED'}), plus {total_requests - posts} GET "
          f"(the preview's group check): {total_requests} in all")
    print(f"wall time: {wall:.2f} s (preview {preview_done - wall_started:.2f} s, job creation "
          f"{job_created - preview_done:.2f} s, sending {wall - (job_created - wall_started):.2f} s)")
    print(f"waiting for the portal: {waited['seconds']:.2f} s over {waited['calls']} calls")
    print(f"portaladmin's own share: {own:.2f} s = {100 * own / wall:.1f}% of the wall time  goal ≤ 10%: "
          f"{'OK' if own / wall <= 0.10 else 'MISSED'}")
    sending = wall - (job_created - wall_started)
    sending_waited = waited["seconds"] - waited.get("preview", 0.0)
    print(f"sending phase alone (what a worker does): portaladmin's share "
          f"{100 * (sending - sending_waited) / sending:.1f}%")
    ok = job.succeeded_count == args.rows and posts <= -(-args.rows // chunk)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
