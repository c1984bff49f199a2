"""Benchmark: 5,000 invites on a sandbox portal with 100 ms of injected latency per request.

Prints: requests sent (goal ≤ 50 at 100 rows per request), wall time, and portaladmin's own share of the
wall time (goal ≤ 10%): everything that is not waiting for the portal's answer (parsing and validating the
list, creating the job and its items, claiming chunks, recording each row's result and its audit event).

It runs on its own: a fresh SQLite file in a temporary directory, the sandbox portal served by
`manage.py runserver` in a subprocess (real HTTP), and the job engine driven in this process (one chunk per
doorbell, as a worker would). Usage: .venv/bin/python bench/bench_invites.py [--rows 5000] [--latency-ms 100]
[--database-url postgres://postgres@127.0.0.1:5432/perf_bench]: with --database-url, that database (which must
exist and be the benchmark's own: it is FLUSHED first) replaces the SQLite file, for portaladmin and the sandbox.
Under `make bench` with a PostgreSQL DATABASE_URL, `<name>_invites` beside it is that database (created if missing).

"Waiting for the portal" is only the time inside the client's HTTP call (send, the sandbox's work and its
injected latency, receive); everything else between the first and the last line of the run is portaladmin's.
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
sys.path.insert(0, str(ROOT / "bench"))
from _common import ensure_postgres, scratch_postgres  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--database-url", default="", help="a database of the benchmark's own (flushed first)")
    parser.add_argument("--debug-sql", action="store_true",
                        help="keep Django's DEBUG query log on in this process (how runs before 27 Nov 2026 measured)")
    args = parser.parse_args()
    if not args.database_url and scratch_postgres("invites"):  # `make bench` on the real stack
        args.database_url = scratch_postgres("invites")
        ensure_postgres(args.database_url)

    tmp = tempfile.mkdtemp(prefix="bench-invites-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update({"DJANGO_SETTINGS_MODULE": "portaladmin.settings", "PORTALADMIN_VAR_DIR": tmp, "DEBUG": "True",
                "LOG_LEVEL": "WARNING", "INVITE_CHUNK_SIZE": env.get("INVITE_CHUNK_SIZE", "100")})
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    os.environ.update(env)
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        if key not in env:
            os.environ.pop(key, None)

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.database_url:
        call_command("flush", interactive=False, verbosity=0)
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
    from django.db import connection, transaction

    # The settings run with DEBUG on (development defaults: sandbox, http, private addresses), but a worker in
    # production does not: with DEBUG on, Django also formats and keeps every SQL statement with its
    # parameters (the 5,000-row INSERT alone costs a third of a second). Only the sandbox subprocess keeps it.
    settings.DEBUG = args.debug_sql
    # This process plays a worker, which loads the URLconf when it starts (portaladmin.celery.warm_up on
    # worker_process_init), not during its first job.
    from portaladmin.celery import warm_up

    warm_up()

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

    # Time spent waiting for the portal: every HTTP call of the client, measured around the request itself,
    # minus the CPU this process spends inside that call (encoding the body, the HTTP library's own work):
    # that part is portaladmin's, not the portal's. The sandbox runs in another process.
    waited = {"seconds": 0.0, "calls": 0, "cpu": 0.0}
    original = client_base.BaseClient._request

    def timed(self, *a, **kw):
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return original(self, *a, **kw)
        finally:
            spent_cpu = time.process_time() - cpu
            waited["seconds"] += time.perf_counter() - started - spent_cpu
            waited["cpu"] += spent_cpu
            waited["calls"] += 1

    client_base.BaseClient._request = timed
    doorbells: list[list[int]] = []
    tasks.enqueue_process = lambda item_ids: doorbells.append(list(item_ids))

    text = "email;first_name;last_name\n" + "".join(
        f"bench{i:05d}@example.org;Bench;User {i}\n" for i in range(args.rows))
    reset_request_log(name)
    wall_started = time.perf_counter()
    cpu_started = time.process_time()
    draft = services.invite_preview(actor=actor, connection=conn, connections=[], text=text)
    preview_done = time.perf_counter()
    waited["preview"] = waited["seconds"]
    with transaction.atomic():
        job = services.draft_start(actor=actor, draft=draft)
    job_created, job_created_cpu = time.perf_counter(), time.process_time() - cpu_started
    preview_requests = request_counts(name)
    chunk_own: list[float] = []  # per doorbell: its time minus the time waiting for the portal
    chunk_cpu: list[float] = []  # per doorbell: this process's CPU time (less sensitive to a loaded machine)
    while doorbells:
        started, waited_before, cpu_before = time.perf_counter(), waited["seconds"], time.process_time()
        engine.items_process(doorbells.pop(0))
        chunk_own.append(time.perf_counter() - started - (waited["seconds"] - waited_before))
        chunk_cpu.append(time.process_time() - cpu_before)
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
          f"({preview_requests} by the preview's checks, {total_requests - posts - preview_requests} by the chunks' "
          f"reads of the members before sending): {total_requests} in all")
    print(f"wall time: {wall:.2f} s (preview {preview_done - wall_started:.2f} s, job creation "
          f"{job_created - preview_done:.2f} s, sending {wall - (job_created - wall_started):.2f} s)")
    print(f"waiting for the portal: {waited['seconds']:.2f} s over {waited['calls']} calls (not counted: "
          f"{waited['cpu']:.2f} s of this process's CPU inside those calls)")
    print(f"portaladmin's own share: {own:.2f} s = {100 * own / wall:.1f}% of the wall time  goal ≤ 10%: "
          f"{'OK' if own / wall <= 0.10 else 'MISSED'}")
    sending = wall - (job_created - wall_started)
    sending_waited = waited["seconds"] - waited.get("preview", 0.0)
    print(f"sending phase alone (what a worker does): portaladmin's share "
          f"{100 * (sending - sending_waited) / sending:.1f}%")
    chunk_own.sort()
    chunk_cpu.sort()
    if chunk_own:
        print(f"own time per chunk (claim, checks, marker, recording, audit, job refresh): median "
              f"{1000 * chunk_own[len(chunk_own) // 2]:.1f} ms, max {1000 * chunk_own[-1]:.1f} ms, "
              f"{len(chunk_own)} chunks; database: {connection.vendor}")
        print(f"CPU time of this process: preview + job creation {job_created_cpu:.2f} s, per chunk median "
              f"{1000 * chunk_cpu[len(chunk_cpu) // 2]:.1f} ms (includes the client's own work per request)")
    ok = job.succeeded_count == args.rows and posts <= -(-args.rows // chunk)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
