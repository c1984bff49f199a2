"""Fixtures for notifications: a real HTTP webhook receiver, finished jobs, and the worker's doorbell recorded."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portaladmin.jobs.models import ItemStatus


class Receiver:
    """A webhook receiver on 127.0.0.1 that records each request and answers `codes` in turn (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.codes: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                code = outer.codes.pop(0) if outer.codes else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok" if code < 300 else b"nope")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?team=ops"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verified(self, secret: str) -> list[dict]:
        """The bodies whose signature is right for `secret` (HMAC-SHA256 over "<timestamp>.<body>")."""
        out = []
        for request in self.requests:
            timestamp = request["headers"]["X-Portaladmin-Timestamp"]
            expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256)
            if hmac.compare_digest(request["headers"]["X-Portaladmin-Signature"], "v1=" + expected.hexdigest()):
                out.append(json.loads(request["body"]))
        return out


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def rung(monkeypatch):
    """The delivery ids the services rang the worker for (no broker in unit tests)."""
    from portaladmin.notify import tasks

    sent: list[int] = []
    monkeypatch.setattr(tasks.notify_deliver_task, "delay", lambda delivery_id: sent.append(delivery_id))
    return sent


@pytest.fixture
def finish_job(no_enqueue, django_capture_on_commit_callbacks):
    """A publish job on `connections` whose items end as given, finished the way the engine finishes jobs."""
    from portaladmin.jobs.services import job_create, job_refresh

    def make(actor, targets: dict, *, failed: int = 0, cancelled: int = 0):
        job = job_create(kind="dataset.publish", actor=actor,
                         targets={conn: [f"da_{conn.slug}_{i}" for i in range(n)] for conn, n in targets.items()})
        items = list(job.items.order_by("id"))
        for index, item in enumerate(items):
            status = (ItemStatus.FAILED if index < failed else
                      ItemStatus.CANCELLED if index < failed + cancelled else ItemStatus.SUCCEEDED)
            item.status = status
            item.message = "The portal shows the dataset in error: bad CSV." if status == ItemStatus.FAILED else ""
            item.save()
        with django_capture_on_commit_callbacks(execute=True):
            job = job_refresh(job_id=job.pk)
        return job

    return make


@pytest.fixture
def send_test(rung, django_capture_on_commit_callbacks):
    """Press "send a test event" (the doorbell is rung once the transaction commits)."""
    from portaladmin.notify.services import rule_send_test

    def press(rule):
        with django_capture_on_commit_callbacks(execute=True):
            return rule_send_test(rule=rule)

    return press
