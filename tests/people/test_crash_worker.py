"""Crash safety of bulk invites with real Redis, real Celery workers and the sandbox portal over real HTTP.

Runs when REDIS_URL is set (it uses redis://127.0.0.1:6379/5). Every process — a web server holding the
sandbox portal, the workers, and a helper playing Celery beat — shares one SQLite FILE database in a temporary
directory, so this needs no PostgreSQL (pytest-django's own SQLite test database lives in memory).

Scenario: 40 invites in chunks of 10, four of them (one per chunk) already members of the portal; the portal
answers each request after 1.5 s. Before each chunk the worker reads the portal's members (one GET /users/).
The worker is killed (SIGKILL, with its children) while a chunk's POST is in flight; the portal still applies
that POST (and refuses its existing member). A new worker and the sweeper take over: the chunk in unknown state
is checked (GET /users/?search=…) and not re-sent; "a member now" counts as invited only for the addresses
that were not members before the send. Every row ends with its true result, and the sandbox's log and state
show that no address was sent twice.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import needs_redis

pytestmark = [needs_redis(), pytest.mark.redis, pytest.mark.worker, pytest.mark.live]

ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379/5"
NAME = "crash"
ROWS, CHUNK = 40, 10
MEMBERS_EVERY = 10  # crash0000, crash0010, … are members before the job: one per chunk


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.db = tmp_path / "portaladmin.sqlite3"
        self.port = _free_port()
        self.env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        self.env.update({
            "DJANGO_SETTINGS_MODULE": "tests.people.crash_settings", "PORTALADMIN_VAR_DIR": str(tmp_path),
            "REDIS_URL": REDIS, "CELERY_BROKER_URL": REDIS, "INVITE_CHUNK_SIZE": str(CHUNK),
            "JOBS_LEASE_SECONDS": "4", "JOBS_ENQUEUE_GRACE": "4", "JOBS_MAX_ATTEMPTS": "5",
            "PYTHONUNBUFFERED": "1"})
        self.procs: list[subprocess.Popen] = []

    def run(self, *args: str) -> str:
        out = subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr[-3000:]
        return out.stdout

    def start(self, label: str, *args: str) -> subprocess.Popen:
        log = open(self.tmp / f"{label}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def worker(self, label: str) -> subprocess.Popen:
        return self.start(label, "-m", "celery", "-A", "portaladmin", "worker", "-Q", "celery,bulk", "-c", "1",
                          "-n", f"{label}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle",
                          "--without-heartbeat")

    def kill(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in self.procs:
            self.kill(proc)

    def sql(self, query: str, *params):
        with sqlite3.connect(self.db, timeout=20) as conn:
            return conn.execute(query, params).fetchall()

    def wait_for(self, condition, *, timeout: float, what: str):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = condition()
            if value:
                return value
            time.sleep(0.1)
        logs = {p.name: p.read_text()[-2000:] for p in self.tmp.glob("*.log")}
        raise AssertionError(f"timed out waiting for {what}; logs: {logs}")


@pytest.fixture
def stack(tmp_path):
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    s = Stack(tmp_path)
    s.run("manage.py", "migrate", "--noinput")
    s.start("web", "manage.py", "runserver", f"127.0.0.1:{s.port}", "--noreload", "--skip-checks")

    def up():
        try:
            socket.create_connection(("127.0.0.1", s.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    s.wait_for(up, timeout=30, what="the web server")
    yield s
    s.stop()
    redis.Redis.from_url(REDIS).flushdb()


def test_worker_killed_mid_invite_every_row_has_a_result_and_no_address_is_sent_twice(stack):
    job_id = int(stack.run("-m", "tests.people.crash_helper", "setup", NAME, str(stack.port), str(ROWS),
                           str(MEMBERS_EVERY)).strip())
    members = {f"crash{i:04d}@example.org" for i in range(0, ROWS, MEMBERS_EVERY)}
    first = stack.worker("worker-1")

    # wait until one chunk is answered and the next one is in flight (sent, no answer yet), then kill the worker
    def in_flight():
        done = stack.sql("SELECT count(*) FROM jobs_jobitem WHERE job_id=? AND send_confirmed=1", job_id)[0][0]
        flying = stack.sql("SELECT count(*) FROM jobs_jobitem WHERE job_id=? AND action_sent=1 AND "
                           "send_confirmed=0", job_id)[0][0]
        return flying if done >= CHUNK and flying else 0

    flying = stack.wait_for(in_flight, timeout=90, what="a chunk in flight")
    time.sleep(0.4)  # the POST has left; the portal is still "thinking" (1.5 s latency)
    stack.kill(first)
    assert flying == CHUNK
    unknown = stack.sql("SELECT target FROM jobs_jobitem WHERE job_id=? AND action_sent=1 AND send_confirmed=0",
                        job_id)
    assert len(unknown) == CHUNK  # nothing was recorded for the chunk whose request was cut off

    # restart: a new worker, and the sweeper (beat) that hands the expired lease back
    stack.sql("UPDATE sandbox_sandboxportal SET latency_ms=100 WHERE name=?", NAME)
    stack.worker("worker-2")
    stack.run("-m", "tests.people.crash_helper", "beat", str(job_id), "150")
    report = json.loads(stack.run("-m", "tests.people.crash_helper", "report", str(job_id), NAME))

    # every row ended with its true result: the existing members are failures with the portal's reason, even
    # in the chunk whose answer was lost (they are members now, but were before we sent)
    assert report["by_status"] == {"succeeded": ROWS - len(members), "failed": len(members)}, report["by_status"]
    assert report["status"] == "partially_failed"
    items = {i["target"]: i for i in report["items"]}
    for email, item in items.items():
        if email in members:
            assert item["status"] == "failed" and "already a member" in item["message"], item
        else:
            assert item["status"] == "succeeded" and "already" not in item["message"], item
    # the chunk in unknown state was checked on the portal, found applied, and not sent again
    for (email,) in unknown:
        if email not in members:
            assert item_message(items[email]) == "An earlier attempt reached the portal; not sent again.", items[email]
    # the sandbox's state: each address exactly once (a second send would have answered "already a member")
    invited = [e for e in report["portal_emails"] if e.startswith("crash")]
    assert sorted(invited) == sorted(items) and len(invited) == len(set(invited)) == ROWS
    # the sandbox's log: exactly one POST /users/invite/ per chunk, all answered 200
    posts = [row for row in report["log"] if row["method"] == "POST"]
    assert posts == [{"method": "POST", "path": "/users/invite/", "status": 200, "count": ROWS // CHUNK}], posts
    # and the checks were made: one membership read per chunk sent (a chunk whose read was cut off by the kill
    # reads again), plus one search per row of the cut-off chunk
    reads = sum(r["count"] for r in report["log"] if r["method"] == "GET" and r["path"] == "/users/")
    assert ROWS // CHUNK + CHUNK <= reads <= ROWS // CHUNK + CHUNK + 2, reads


def item_message(item: dict) -> str:
    return item["message"]
