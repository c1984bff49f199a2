"""Compare and promote between two sandbox portals over real HTTP; the engine's worker and poller run in the test."""

import pytest

from portaladmin.audit.models import AuditEvent
from portaladmin.jobs.models import ItemStatus, JobStatus
from portaladmin.jobs.services import job_retry_failed
from portaladmin.portals.client import clear_client_cache, client_for
from portaladmin.portals.models import Role
from portaladmin.promote import services
from portaladmin.promote.diff import is_empty
from portaladmin.sandbox.services import reset_request_log
from tests.promote.conftest import FILE_BYTES, portal_writes
from tests.sandbox_fixtures import run_worker_and_poller

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
ALL = list(services.PROMOTABLE)


def promote(actor, stage, prod, uid, clock, *, parts=ALL, publish=True, dataset_id="stage-00001"):
    job = services.promote_start(actor=actor, source=stage, source_uid=uid, dataset_id=dataset_id,
                                 targets={prod: ""}, parts=parts, publish=publish)
    return run_worker_and_poller(job, clock, steps=40)


@pytest.fixture
def promoter(make_user, stage, prod):
    from portaladmin.portals.models import Membership

    user = make_user("pia", role=Role.OPERATOR, connection=stage)
    Membership.objects.create(user=user, connection=prod, role=Role.ADMIN)
    return user


def test_diff_every_part_promote_all_then_empty_then_zero_writes(stage, prod, source_uid, promoter, sandbox_clock,
                                                                 no_enqueue):
    # the target has a counterpart (same dataset_id) that differs in every part
    prod_client = client_for(prod)
    target = next(d for d in prod_client.dataset_iter() if d.dataset_id == "prod-00001")
    from portaladmin.sandbox.models import (
        SandboxDataset,  # (a published dataset's id cannot change through the API)
    )

    SandboxDataset.objects.filter(portal__name="prod", uid=target.uid).update(dataset_id="stage-00001")
    prod_client.dataset_group_ruleset_create(target.uid, group_uid="dataset_managers", permissions=["edit_dataset"])
    # the group called "Analysts" on prod is another group (another uid): rulesets are mapped by NAME
    prod_client.group_update("analysts", {"title": "Analysts (old)"})
    new_analysts = prod_client.group_create(title="Analysts", extra={"uid": "analysts_2026"})

    before = services.compare(source=stage, source_uid=source_uid, target=prod)
    assert before.target["uid"] == target.uid
    assert set(before.changed_parts) >= {"metadata", "resources", "processors", "fields", "schedules", "security"}

    job = promote(promoter, stage, prod, source_uid, sandbox_clock)
    items = list(job.items.order_by("id"))
    assert job.status == JobStatus.SUCCEEDED, [(i.target, i.status, i.message) for i in items]
    assert [i.payload["part"] for i in items] == ["dataset", *ALL[1:], "publication"]
    assert AuditEvent.objects.filter(action="promote.dataset", job_id=job.pk).count() == len(items)
    assert items[-1].remote_state == "idle" and "published" in items[-1].message  # watched until idle

    after = services.compare(source=stage, source_uid=source_uid, target=prod)
    assert is_empty(after.diffs, ignore=()), [(d.name, [(r.key, r.status) for r in d.changes]) for d in after.diffs]
    # the uploaded file was streamed across: same bytes on the target
    resource = next(r for r in prod_client.resource_list(target.uid).results if r.title == "Population")
    file_uid = resource.datasource["file"]["uid"]
    assert b"".join(prod_client.resource_file_download(target.uid, file_uid)) == FILE_BYTES
    groups = {r.group_uid for r in prod_client.dataset_group_ruleset_list(target.uid).results}
    assert new_analysts.uid in groups and "analysts" not in groups and "dataset_managers" not in groups

    reset_request_log("prod")
    again = promote(promoter, stage, prod, source_uid, sandbox_clock)
    assert again.status == JobStatus.SUCCEEDED
    assert portal_writes("prod") == 0
    assert {i.message for i in again.items.all()} == {"Already the same: nothing written."}


def test_promote_creates_a_missing_dataset_with_the_chosen_id_and_a_dry_run_lists_calls(
        stage, prod, source_uid, promoter, sandbox_clock, no_enqueue):
    comparison = services.compare(source=stage, source_uid=source_uid, target=prod)
    assert not comparison.target["exists"]
    reset_request_log("prod")
    plans = services.dry_run(comparison=comparison, target=prod, parts=ALL, publish=True, dataset_id="roads-prod")
    assert portal_writes("prod") == 0  # a dry run reads
    lines = [c.line for p in plans for c in p.calls]
    assert lines[0] == "POST /datasets/ — create dataset roads-prod"
    assert any("upload population.csv" in line for line in lines)
    assert lines[-1].startswith("POST /datasets/{target}/publish/")

    job = promote(promoter, stage, prod, source_uid, sandbox_clock, dataset_id="roads-prod")
    assert job.status == JobStatus.SUCCEEDED, [(i.target, i.message) for i in job.items.all()]
    created = client_for(prod).dataset_lookup("roads-prod")
    after = services.compare(source=stage, source_uid=source_uid, target=prod, target_uid=created.uid)
    assert [d.name for d in after.diffs if d.changed] == ["dataset"]  # only the dataset_id, chosen on purpose


def test_unknown_principal_and_refusal_stop_the_chain_and_retry_repeats_only_what_failed(
        stage, prod, source_uid, promoter, sandbox_clock, no_enqueue):
    from portaladmin.sandbox.services import seed_portal

    c = client_for(stage)
    only_on_stage = [u.username for u in c.user_iter()][-1]
    c.dataset_user_ruleset_create(source_uid, username=only_on_stage, permissions=["edit_dataset"])

    job = promote(promoter, stage, prod, source_uid, sandbox_clock)
    by_part = {i.payload["part"]: i for i in job.items.all()}
    assert job.status == JobStatus.PARTIALLY_FAILED
    assert by_part["resources"].status == ItemStatus.SUCCEEDED
    assert by_part["security"].status == ItemStatus.FAILED and only_on_stage in by_part["security"].message
    assert by_part["security"].details["unknown_principals"] == [f"user {only_on_stage}"]
    assert by_part["publication"].status == ItemStatus.FAILED
    assert by_part["publication"].message.startswith("Not run")

    seed_portal("prod", users=8)  # the person now exists on prod (a top-up: nothing else changes)
    reset_request_log("prod")
    retry = run_worker_and_poller(job_retry_failed(job=job, actor=promoter), sandbox_clock, steps=40)
    assert retry.status == JobStatus.SUCCEEDED, [(i.target, i.message) for i in retry.items.all()]
    assert sorted(i.payload["part"] for i in retry.items.all()) == ["publication", "security"]
    from portaladmin.sandbox.services import request_counts

    assert request_counts("prod", path_contains="/resources/", method="POST") == 0  # succeeded steps not repeated


def test_a_target_refusing_a_step_stops_its_chain_with_the_portals_message(stage, prod, source_uid, promoter,
                                                                             sandbox_clock, no_enqueue):
    # prod's key may edit and create datasets but not manage their security
    limited = client_for(prod).apikey_create(label="no security", permissions=["edit_dataset", "create_dataset"])
    clear_client_cache()  # close the old key's pooled sockets (a replaced client is dropped, never closed)
    prod.set_api_key(limited.key)
    prod.save()
    job = promote(promoter, stage, prod, source_uid, sandbox_clock)
    by_part = {i.payload["part"]: i for i in job.items.all()}
    assert by_part["schedules"].status == ItemStatus.SUCCEEDED
    assert by_part["security"].status == ItemStatus.FAILED
    assert by_part["security"].message.startswith("Security: ")
    assert "permission" in by_part["security"].message.lower()
    assert by_part["publication"].message.startswith("Not run")


def test_promote_needs_operator_on_the_source_and_admin_on_the_target(stage, prod, source_uid, make_user,
                                                                       no_enqueue):
    from django.core.exceptions import PermissionDenied

    from portaladmin.portals.models import Membership

    user = make_user("otto", role=Role.OPERATOR, connection=stage)
    Membership.objects.create(user=user, connection=prod, role=Role.OPERATOR)
    with pytest.raises(PermissionDenied):
        services.promote_start(actor=user, source=stage, source_uid=source_uid, dataset_id="x", targets={prod: ""},
                               parts=ALL, publish=False)
    viewer = make_user("vic", role=Role.VIEWER, connection=stage)
    Membership.objects.create(user=viewer, connection=prod, role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        services.promote_start(actor=viewer, source=stage, source_uid=source_uid, dataset_id="x",
                               targets={prod: ""}, parts=ALL, publish=False)


def test_a_source_changed_during_the_promote_is_said_in_the_result(stage, prod, source_uid, promoter, sandbox_clock,
                                                                    no_enqueue, monkeypatch):
    from portaladmin.promote import apply

    real = apply.run_plan
    changed = []

    def run_plan_while_someone_edits_the_source(plan, **kwargs):
        if plan.part == "processors" and not changed:  # someone edits the source in the middle of the chain
            client_for(stage).metadata_update(source_uid, "default", "title", value="Edited meanwhile")
            changed.append(True)
        return real(plan, **kwargs)

    monkeypatch.setattr(apply, "run_plan", run_plan_while_someone_edits_the_source)
    job = promote(promoter, stage, prod, source_uid, sandbox_clock, publish=False)
    last = job.items.order_by("id").last()
    assert "The source dataset changed during the promote" in last.message and last.details["source_changed"]


def test_lost_answers_and_server_errors_on_the_target_end_with_the_same_result_and_no_duplicates(
        stage, prod, source_uid, promoter, sandbox_clock, no_enqueue):
    """A third of the target's successful writes are APPLIED and then their answer is lost, and some requests fail
    with 5xx: the engine gives the chain back, each step re-plans, nothing is created twice, the diff ends empty."""
    from datetime import timedelta

    from django.utils import timezone

    from portaladmin.jobs import engine
    from portaladmin.jobs.models import JobItem
    from portaladmin.sandbox.services import set_faults

    set_faults("prod", lost_answer_rate=0.3, error_rate=0.1, seed=7)
    job = services.promote_start(actor=promoter, source=stage, source_uid=source_uid, dataset_id="stage-00001",
                                 targets={prod: ""}, parts=ALL, publish=False)
    engine.items_process(list(job.items.values_list("id", flat=True)))
    for _ in range(60):  # what the worker and the beat-driven poller do, until the job ends
        job.refresh_from_db()
        if not job.is_active:
            break
        sandbox_clock.advance(1.5)
        JobItem.objects.filter(job=job, status__in=["pending", "waiting"]).update(
            next_poll_at=timezone.now() - timedelta(seconds=1))
        for connection_id, ids in engine.poll_tick().items():
            engine.poll_batch(connection_id=connection_id, item_ids=ids)
        while no_enqueue:
            engine.items_process(no_enqueue.pop(0))
    assert job.status == JobStatus.SUCCEEDED, [(i.target, i.status, i.message) for i in job.items.all()]

    from portaladmin.sandbox.services import request_counts

    assert request_counts("prod", status=599) > 0  # answers were really lost (applied, then the socket dropped)
    set_faults("prod", lost_answer_rate=0.0, error_rate=0.0)
    after = services.compare(source=stage, source_uid=source_uid, target=prod)
    assert is_empty(after.diffs), [(d.name, [(r.key, r.status) for r in d.changes]) for d in after.diffs]
    titles = [r.title for r in client_for(prod).resource_list(after.target["uid"]).results]
    assert sorted(titles) == sorted(set(titles))  # no resource created twice
    assert len(client_for(prod).dataset_list(dataset_id="stage-00001").results) == 1  # nor the dataset


def test_two_targets_one_refusing_the_other_goes_on(stage, prod, source_uid, promoter, sandbox_clock, no_enqueue,
                                                    sandbox_connection):
    from portaladmin.portals.models import Membership

    prod2 = sandbox_connection("prod2", slug="prod2", name="Prod 2", api_key="promote-prod2-key-0123456789",
                               datasets=1, users=3, groups=3, harvesters=0, pages=0)
    Membership.objects.create(user=promoter, connection=prod2, role=Role.ADMIN)
    limited = client_for(prod).apikey_create(label="no security", permissions=["edit_dataset", "create_dataset"])
    clear_client_cache()  # close the old key's pooled sockets (a replaced client is dropped, never closed)
    prod.set_api_key(limited.key)
    prod.save()
    job = services.promote_start(actor=promoter, source=stage, source_uid=source_uid, dataset_id="stage-00001",
                                 targets={prod: "", prod2: ""}, parts=ALL, publish=False)
    job = run_worker_and_poller(job, sandbox_clock, steps=40)
    assert job.status == JobStatus.PARTIALLY_FAILED
    failed = {(i.connection.slug, i.payload["part"]) for i in job.items.filter(status=ItemStatus.FAILED)}
    assert failed == {("prod", "security")}
    assert job.items.filter(connection=prod2, status=ItemStatus.SUCCEEDED).count() == len(ALL)
    assert is_empty(services.compare(source=stage, source_uid=source_uid, target=prod2).diffs)


def test_datasource_connections_are_matched_on_the_target_and_a_missing_one_is_refused_before_sending(
        stage, prod, source_uid, promoter, sandbox_clock, no_enqueue):
    s, p = client_for(stage), client_for(prod)
    # the same server on both portals, under different connection uids
    on_stage = s.datasource_connection_create({"type": "http", "url": "https://opendata.example.com/"})
    on_prod = p.datasource_connection_create({"type": "http", "url": "https://opendata.example.com"})
    assert on_stage.uid != on_prod.uid
    s.resource_create(source_uid, {"type": "csvfile", "title": "Roads", "params": {"separator": ";"},
                                   "datasource": {"type": "http", "connection": {"uid": on_stage.uid},
                                                  "relative_url": "/roads.csv"}})
    job = promote(promoter, stage, prod, source_uid, sandbox_clock, publish=False)
    assert job.status == JobStatus.SUCCEEDED, [(i.target, i.message) for i in job.items.all()]
    target_uid = job.items.get(payload__part="resources").details["target_uid"]
    roads = next(r for r in p.resource_list(target_uid).results if r.title == "Roads")
    assert roads.datasource["connection"] == {"uid": on_prod.uid}  # the target's own connection, matched by address
    after = services.compare(source=stage, source_uid=source_uid, target=prod)
    assert not next(d for d in after.diffs if d.name == "resources").changed

    # a connection prod has nothing like: the dry run says so, and the step is refused before any write
    only_stage = s.datasource_connection_create({"type": "http", "url": "https://internal.stage.example"})
    s.resource_create(source_uid, {"type": "csvfile", "title": "Bridges", "params": {},
                                   "datasource": {"type": "http", "connection": {"uid": only_stage.uid},
                                                  "relative_url": "/bridges.csv"}})
    comparison = services.compare(source=stage, source_uid=source_uid, target=prod)
    plans = services.dry_run(comparison=comparison, target=prod, parts=["resources"], publish=False,
                             dataset_id="stage-00001")
    assert plans[0].missing == ["http connection https://internal.stage.example (for the resource Bridges)"]
    reset_request_log("prod")
    again = promote(promoter, stage, prod, source_uid, sandbox_clock, publish=False)
    resources = again.items.get(payload__part="resources")
    assert resources.status == ItemStatus.FAILED
    assert resources.message.startswith("Resources: No datasource connection like it on this portal")
    assert "https://internal.stage.example" in resources.message and "Nothing was sent" in resources.message
    from portaladmin.sandbox.services import request_counts

    assert request_counts("prod", path_contains="/resources/", method="POST") == 0
    assert again.items.get(payload__part="processors").message.startswith("Not run")
