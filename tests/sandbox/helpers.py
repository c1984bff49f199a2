"""Helpers for tests that talk to the sandbox (importable from any test package):

    from tests.sandbox.helpers import FakeClock, SandboxApi, new_dataset_body

`SandboxApi(client, name, key)` wraps Django's test Client and checks every request and answer against the
spec (tests/oracle.py); `FakeClock` replaces `portaladmin.sandbox.clock.now` so status machines move without
sleeping (monkeypatch.setattr(portaladmin.sandbox.clock, "now", FakeClock(start))).
"""

import datetime as dt
import json

from tests.oracle import spec_available, validate_request, validate_response

SANDBOX_KEY = "sandbox-test-key-0123456789"
PREFIX = "/api/automation/v1.0"


class FakeClock:
    def __init__(self, start: dt.datetime):
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def set(self, value: dt.datetime) -> None:
        self.current = value

    def advance(self, seconds: float) -> dt.datetime:
        self.current = self.current + dt.timedelta(seconds=seconds)
        return self.current


def _template(method: str, path: str) -> str:
    from tests.oracle import operation_for

    return operation_for(method, path)[0]


class Answer:
    def __init__(self, response):
        self.response = response
        self.status = response.status_code
        self.headers = response.headers
        ctype = response.headers.get("Content-Type", "")
        self.json = json.loads(response.content) if "json" in ctype and response.content else None
        self.content = response.content

    def __repr__(self):
        return f"<Answer {self.status} {str(self.json)[:300]}>"


class SandboxApi:
    """Django test client wrapper: every answer is checked against the spec (and requests too, unless
    `check_request=False` — for tests that send bad bodies on purpose)."""

    def __init__(self, client, name: str, key: str | None):
        self.client, self.name, self.key = client, name, key
        self.checked = 0
        self.seen: set[tuple[str, str]] = set()  # (METHOD, spec path) of every validated answer

    def call(self, method: str, path: str, *, json_body=None, query=None, files=None, check_request=True,
             check_response=True, headers=None, key=True) -> Answer:
        url = f"/sandbox/{self.name}{PREFIX}{path}"
        hdrs = dict(headers or {})
        if key and self.key:
            hdrs.setdefault("Authorization", f"apikey {self.key}")
        kwargs = {"headers": hdrs}
        if query:
            kwargs["QUERY_STRING"] = "&".join(
                f"{k}={v}" for k, vs in query.items() for v in (vs if isinstance(vs, list) else [vs]))
        func = getattr(self.client, method.lower())
        if files is not None:
            resp = func(url, data=files, **kwargs)
        elif json_body is not None:
            resp = func(url, data=json.dumps(json_body), content_type="application/json", **kwargs)
        else:
            resp = func(url, **kwargs)
        if spec_available():
            if check_request:
                validate_request(method, path, query=query, json_body=json_body,
                                 content_type="multipart/form-data" if files is not None else None)
            answer = Answer(resp)
            if check_response and (answer.json is not None or answer.status == 204):
                template = validate_response(method, path, answer.status, answer.json)
                self.seen.add((method.upper(), template))
                self.checked += 1
            elif check_response:  # not JSON (CSV export, downloads): the spec declares no JSON schema to check
                self.seen.add((method.upper(), _template(method, path)))
            return answer
        return Answer(resp)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, json_body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, json_body=body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def new_dataset_body(dataset_id: str = "my-data", **extra) -> dict:
    return {"dataset_id": dataset_id, "is_restricted": False,
            "metadata": {"default": {"title": {"value": "My data"}, "modified": {"value": "2026-01-01T00:00:00Z"},
                                     "language": {"value": "en"}}}, **extra}
