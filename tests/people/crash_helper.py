"""Helper commands for test_crash_worker.py, run in a subprocess with crash_settings:

    python -m tests.people.crash_helper setup NAME PORT ROWS [MEMBERS_EVERY]   → prints the job id
        (every MEMBERS_EVERY-th address is made a member of the portal before the job starts)
    python -m tests.people.crash_helper beat JOB SECONDS        → plays Celery beat (sweeper) until the job ends
    python -m tests.people.crash_helper report JOB NAME         → prints a JSON report
"""

import json
import sys
import time

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db.models import Count  # noqa: E402

from portaladmin.jobs.models import Job  # noqa: E402
from portaladmin.jobs.services import job_create  # noqa: E402
from portaladmin.portals.models import Connection, Membership, Role  # noqa: E402
from portaladmin.sandbox.models import SandboxObject  # noqa: E402
from portaladmin.sandbox.services import request_log, seed_portal  # noqa: E402

KEY = "crash-test-key-0123456789"


def emails(rows: int) -> list[str]:
    return [f"crash{i:04d}@example.org" for i in range(rows)]


def setup(name: str, port: str, rows: str, members_every: str = "0") -> None:
    seed_portal(name, datasets=0, users=2, groups=1, harvesters=0, pages=0, api_key=KEY, reset=True,
                latency_ms=1500)
    conn = Connection(slug=name, name=name, base_url=f"http://127.0.0.1:{port}/sandbox/{name}")
    conn.set_api_key(KEY)
    conn.save()
    every = int(members_every)
    if every:
        from portaladmin.portals.client import PortalClient

        already = [{"email": e} for i, e in enumerate(emails(int(rows))) if i % every == 0]
        PortalClient(base_url=conn.base_url, api_key=KEY, allow_private=True).user_invite(already)
        from portaladmin.sandbox.services import reset_request_log

        reset_request_log(name)
    user = get_user_model().objects.create_user("oscar", password="pw-Secret-123")
    Membership.objects.create(user=user, connection=conn, role=Role.OPERATOR)
    job = job_create(kind="user.invite", actor=user, targets={conn: [
        {"target": e, "payload": {"email": e, "first_name": "Crash"}} for e in emails(int(rows))]})
    print(job.pk)


def beat(job_id: str, seconds: str) -> None:
    from portaladmin.jobs import engine

    end = time.monotonic() + float(seconds)
    while time.monotonic() < end:
        from django.utils import timezone

        engine.dispatch_due_sends(now=timezone.now())
        engine.sweep()
        if not Job.objects.get(pk=int(job_id)).is_active:
            return
        time.sleep(1)


def report(job_id: str, name: str) -> None:
    job = Job.objects.get(pk=int(job_id))
    items = list(job.items.order_by("id").values("target", "status", "message", "attempts", "action_sent",
                                                 "send_confirmed"))
    users = list(SandboxObject.objects.filter(portal__name=name, kind="user").values_list("data__email", flat=True))
    print(json.dumps({
        "status": job.status, "items": items,
        "by_status": dict(job.items.values_list("status").annotate(n=Count("id"))),
        "portal_emails": users, "log": request_log(name)}))


if __name__ == "__main__":
    {"setup": setup, "beat": beat, "report": report}[sys.argv[1]](*sys.argv[2:])
