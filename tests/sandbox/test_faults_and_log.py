"""Fault injection really produces the configured shares; the request log counts per path template."""

from collections import Counter

from portaladmin.sandbox.services import request_counts, request_log, reset_request_log, set_faults

N = 400


def run(api, n=N):
    statuses = Counter()
    retry_after = set()
    for _ in range(n):
        answer = api.get("/datasets/", query={"limit": 0})
        statuses[answer.status] += 1
        if answer.status == 429:
            retry_after.add(answer.headers.get("Retry-After"))
            assert answer.json["error_code"] and answer.json["message"]
        elif answer.status >= 500:
            assert answer.json["error_code"] == "internal_error" and answer.json["trace_id"]
    return statuses, retry_after


def test_error_and_throttle_rates_produce_their_share(api):
    set_faults("acme", error_rate=0.2, throttle_rate=0.1, retry_after=3, seed=7)
    statuses, retry_after = run(api)
    errors = sum(c for s, c in statuses.items() if s >= 500)
    assert abs(errors / N - 0.2) < 0.06
    assert abs(statuses[429] / N - 0.1) < 0.05
    assert {s for s in statuses if s >= 500} <= {500, 502, 503} and len({s for s in statuses if s >= 500}) > 1
    assert retry_after == {"3"}
    assert statuses[200] == N - errors - statuses[429]


def test_faults_are_deterministic_for_a_seed(api):
    set_faults("acme", error_rate=0.3, throttle_rate=0.0, seed=11)
    first = [api.get("/datasets/", query={"limit": 0}).status for _ in range(50)]
    set_faults("acme", error_rate=0.3, throttle_rate=0.0, seed=11)  # resets the request counter
    second = [api.get("/datasets/", query={"limit": 0}).status for _ in range(50)]
    assert first == second and any(s >= 500 for s in first)


def test_no_faults_by_default_and_faults_have_no_side_effect(api):
    statuses, _ = run(api, 50)
    assert statuses == Counter({200: 50})
    set_faults("acme", error_rate=1.0)
    answer = api.post("/groups/", {"title": "Never created"})
    assert answer.status in (500, 502, 503)
    set_faults("acme", error_rate=0.0)
    assert api.get("/groups/", query={"search": "never"}).json["total_count"] == 0


def test_request_log_counts_by_method_path_template_and_status(api):
    reset_request_log("acme")
    uid = api.get("/datasets/", query={"limit": 1}).json["results"][0]["uid"]
    for _ in range(3):
        api.get(f"/datasets/{uid}/status/")
    api.get("/datasets/da_missing/status/")
    api.get("/datasets/", key=False)
    assert request_counts("acme") == 6
    assert request_counts("acme", method="GET", path_contains="/status/") == 4
    assert request_counts("acme", path_contains="/status/", status=404) == 1
    assert request_counts("acme", status=401) == 1
    log = request_log("acme")
    assert {"method": "GET", "path": "/datasets/{dataset_uid}/status/", "status": 200, "count": 3} in log
    reset_request_log("acme")
    assert request_counts("acme") == 0
