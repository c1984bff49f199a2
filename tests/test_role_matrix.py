"""The role matrix over EVERY URL pattern of the project × six identities × GET/POST.

Each pattern must be listed in ACCESS with who may GET it and who may POST to it; a pattern that is not listed
(a new view) fails `test_every_url_pattern_has_an_expectation`, so no view joins the project without someone
deciding who may use it. For each pattern, against a sandbox portal over real HTTP:

- anonymous people are sent to the log-in page (never a 200), except on the few public pages;
- an outsider (no role) gets 404 (or 403) on everything under a connection and never learns it exists;
- anyone below the needed role gets 403/404 and nothing is written: no audit event, no job, no write request
  reaches the portal — viewers never succeed at a POST that writes;
- anyone allowed gets the answer the superuser gets (so an allowed role is not refused by mistake).

The app matrices (tests/<app>/test_views.py) check the allowed answers in detail; this one checks that the
whole URL space is covered. Allowed POSTs are not sent here: they would change the fixtures under the other cases.
"""

import re

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.jobs.models import Job
from portaladmin.portals.models import Membership
from portaladmin.sandbox.models import SandboxRequestCount

PUBLIC = "public"  # anyone, logged in or not (log-in side doors, health check)
APIKEY = "apikey"  # the sandbox portal's API: its own key, never a session (401 without it)
LOGIN = "login"  # anyone logged in; what they see or change is filtered by their roles inside
SUPER = "superuser"
VIEW, OPERATE, ADMIN = "viewer", "operator", "admin"  # role on the connection (of the URL, or of the job)
NO = "not allowed"  # the method is refused (405) to everyone

RANK = {VIEW: 1, OPERATE: 2, ADMIN: 3}
IDENTITIES = ["anonymous", "outsider", "viewer", "operator", "admin", "superuser"]

# url name → (who may GET, who may POST)
ACCESS = {
    "healthz": (PUBLIC, NO),
    "login": (PUBLIC, PUBLIC),
    "logout": (NO, PUBLIC),
    "password_change": (LOGIN, LOGIN),
    "time_zone": (NO, LOGIN),
    "password_reset": (PUBLIC, PUBLIC),
    "password_reset_done": (PUBLIC, PUBLIC),
    "password_reset_confirm": (PUBLIC, PUBLIC),
    "password_reset_complete": (PUBLIC, PUBLIC),
    "oidc_authentication_init": (PUBLIC, PUBLIC),  # 404 while single sign-on is off
    "oidc_authentication_callback": (PUBLIC, PUBLIC),
    "accounts:users": (SUPER, SUPER),
    "accounts:user": (SUPER, SUPER),
    "accounts:set-password": (NO, SUPER),
    "accounts:unlock": (NO, SUPER),
    "accounts:toggle-active": (NO, SUPER),
    "accounts:toggle-add-connections": (NO, SUPER),
    "home": (LOGIN, NO),
    "fleet:datasets": (LOGIN, NO),
    "fleet:datasets-bulk": (NO, LOGIN),
    "fleet:datasets-metadata": (LOGIN, LOGIN),
    "fleet:datasets-metadata-undo": (NO, OPERATE),
    "fleet:harvesters": (LOGIN, NO),
    "fleet:harvesters-refresh": (NO, LOGIN),
    "fleet:people": (LOGIN, NO),
    "fleet:people-offboard": (NO, LOGIN),
    "fleet:offboard": (VIEW, NO),
    "fleet:watchdog-dataset-abort": (NO, OPERATE),
    "fleet:watchdog-harvester-abort": (NO, OPERATE),
    "fleet:watchdog-job-retry": (NO, OPERATE),
    "fleet:watchdog-job-cancel": (NO, OPERATE),
    "portals:list": (LOGIN, LOGIN),
    "portals:create": (SUPER, SUPER),  # or a person given "can add connections" (tests/portals)
    "portals:detail": (VIEW, VIEW),
    "portals:edit": (ADMIN, ADMIN),
    "portals:delete": (NO, ADMIN),
    "portals:test": (NO, VIEW),  # a read: it records reachability, writes nothing remote
    "portals:members": (ADMIN, ADMIN),
    "portals:member-change": (NO, ADMIN),
    "portals:member-remove": (NO, ADMIN),
    "portals:apikeys": (ADMIN, ADMIN),
    "portals:apikey-edit": (ADMIN, ADMIN),
    "portals:apikey-new": (ADMIN, NO),
    "portals:apikey-revoke": (NO, ADMIN),
    "portals:datasources": (VIEW, NO),
    "portals:datasource-create": (ADMIN, ADMIN),
    "portals:datasource-edit": (ADMIN, ADMIN),
    "portals:datasource-delete": (NO, ADMIN),
    "portals:datasource-access": (NO, ADMIN),
    "portals:datasource-access-remove": (NO, ADMIN),
    "audit:list": (LOGIN, LOGIN),
    "audit:export": (LOGIN, LOGIN),
    "jobs:list": (LOGIN, LOGIN),
    "jobs:detail": (VIEW, VIEW),
    "jobs:status": (VIEW, VIEW),
    "jobs:retry": (NO, OPERATE),
    "jobs:cancel": (NO, OPERATE),
    "datasets:list": (VIEW, NO),
    "datasets:refresh": (NO, VIEW),  # asks for a catalogue sync: reads only
    "datasets:sync_status": (VIEW, NO),
    "datasets:bulk": (NO, OPERATE),  # delete among its actions needs admin (tests/datasets/test_bulk_list.py)
    "datasets:export": (VIEW, NO),
    "datasets:scan": (NO, OPERATE),  # "Check statuses now": spends the portal's request budget
    "datasets:scan_status": (VIEW, NO),
    "datasets:create": (OPERATE, OPERATE),
    "datasets:detail": (VIEW, NO),
    "datasets:action": (NO, OPERATE),
    "datasets:copy": (NO, OPERATE),
    "datasets:delete": (NO, ADMIN),
    "datasets:metadata_template": (NO, OPERATE),
    "datasets:metadata_suggest": (OPERATE, NO),
    "datasets:templates": (VIEW, NO),
    "datasets:template_create": (ADMIN, ADMIN),
    "datasets:template_edit": (ADMIN, ADMIN),
    "datasets:template_delete": (NO, ADMIN),
    "datasets:template_active": (NO, ADMIN),
    "datasets:html_preview": (NO, OPERATE),
    "datasets:bulk_metadata": (OPERATE, OPERATE),
    "datasets:bulk_metadata_undo": (NO, OPERATE),
    "datasets:resource_new": (OPERATE, NO),
    "datasets:resource_new_url": (NO, OPERATE),
    "datasets:resource_new_upload": (NO, OPERATE),
    "datasets:resource_new_connection": (NO, OPERATE),
    "datasets:resource_draft_preview": (NO, OPERATE),  # asks the portal for a preview: a read, but of a draft
    "datasets:resource_draft_save": (NO, OPERATE),
    "datasets:resource": (VIEW, NO),
    "datasets:resource_edit": (OPERATE, NO),
    "datasets:resource_edit_preview": (NO, OPERATE),
    "datasets:resource_edit_save": (NO, OPERATE),
    "datasets:resource_edit_guess": (NO, OPERATE),
    "datasets:resource_preview": (VIEW, NO),
    "datasets:resource_download": (VIEW, NO),
    "datasets:resource_clean_cache": (NO, OPERATE),
    "datasets:resource_enable": (NO, OPERATE),
    "datasets:resource_disable": (NO, OPERATE),
    "datasets:resource_recover": (NO, OPERATE),
    "datasets:resource_delete_recovered": (NO, ADMIN),
    "datasets:resource_renew_key": (NO, ADMIN),
    "datasets:resource_push_key": (ADMIN, NO),
    "datasets:resource_delete": (NO, ADMIN),
    "datasets:attachment_download": (VIEW, NO),
    "datasets:processor_delete": (NO, ADMIN),
    "datasets:field_add": (NO, OPERATE),
    "datasets:field_edit": (NO, OPERATE),
    "datasets:field_delete": (NO, ADMIN),
    "datasets:schedule_add": (NO, OPERATE),
    "datasets:cron_preview": (VIEW, NO),
    "datasets:schedule_delete": (NO, ADMIN),
    "datasets:version_restore": (NO, OPERATE),
    "datasets:attachment_upload": (NO, OPERATE),
    "datasets:attachment_delete": (NO, ADMIN),
    "datasets:security": (NO, ADMIN),
    "datasets:ruleset_add": (NO, ADMIN),
    "datasets:ruleset_edit": (NO, ADMIN),
    "datasets:ruleset_delete": (NO, ADMIN),
    "datasets:tab": (VIEW, NO),
    "datasets:processor_new": (OPERATE, OPERATE),  # the catalogue and a type's generated form
    "datasets:processor_change": (OPERATE, OPERATE),
    "datasets:processor_move": (NO, OPERATE),
    "datasets:schema": (VIEW, NO),
    "datasets:schema_field": (OPERATE, OPERATE),
    "datasets:schedule_change": (OPERATE, OPERATE),
    "datasets:exports": (VIEW, NO),
    "datasets:export_add": (NO, OPERATE),
    "datasets:export_change": (OPERATE, OPERATE),
    "datasets:export_delete": (NO, ADMIN),
    "datasets:export_download": (VIEW, NO),
    "datasets:feedback": (VIEW, NO),
    "datasets:feedback_detail": (VIEW, NO),
    "datasets:feedback_archive": (NO, OPERATE),
    "datasets:feedback_all": (VIEW, NO),
    "datasets:feedback_count": (NO, OPERATE),  # a read, but one request per dataset: like "Check statuses now"
    "datasets:images": (VIEW, NO),
    "datasets:image_upload": (NO, OPERATE),
    "datasets:attachment_detail": (VIEW, NO),
    "people:users": (VIEW, VIEW),
    "people:users_export": (VIEW, VIEW),
    "people:provision": (OPERATE, OPERATE),
    "people:invite": (OPERATE, OPERATE),
    "people:invite_preview": (OPERATE, OPERATE),
    "people:invite_rows": (OPERATE, OPERATE),
    "people:invite_confirm": (NO, OPERATE),
    "people:user": (VIEW, VIEW),
    "people:user_permissions": (NO, OPERATE),
    "people:user_limits": (NO, OPERATE),
    "people:user_group_add": (NO, OPERATE),
    "people:user_group_remove": (NO, OPERATE),
    "people:user_remove": (NO, ADMIN),
    "people:groups": (VIEW, VIEW),
    "people:group_create": (OPERATE, OPERATE),
    "people:group": (VIEW, VIEW),
    "people:group_edit": (OPERATE, OPERATE),
    "people:group_delete": (NO, ADMIN),
    "people:group_member_add": (NO, OPERATE),
    "people:group_batch_add": (OPERATE, OPERATE),
    "people:batch_preview": (OPERATE, OPERATE),
    "people:batch_rows": (OPERATE, OPERATE),
    "people:batch_confirm": (NO, OPERATE),
    "people:group_member_remove": (NO, OPERATE),
    "harvesters:list": (VIEW, NO),
    "harvesters:create": (OPERATE, OPERATE),
    "harvesters:create_preview": (NO, OPERATE),
    "harvesters:detail": (VIEW, NO),
    "harvesters:edit": (OPERATE, OPERATE),
    "harvesters:edit_preview": (NO, OPERATE),
    "harvesters:preview": (VIEW, NO),
    "harvesters:errors_csv": (VIEW, NO),
    "harvesters:datasets": (VIEW, NO),
    "harvesters:job_status": (VIEW, NO),
    "harvesters:start": (NO, OPERATE),
    "harvesters:abort": (NO, OPERATE),
    "harvesters:publish": (NO, OPERATE),
    "harvesters:unpublish": (NO, OPERATE),
    "harvesters:schedule": (OPERATE, OPERATE),
    "harvesters:schedule_delete": (NO, OPERATE),
    "harvesters:delete": (ADMIN, ADMIN),
    "pages:list": (VIEW, VIEW),
    "pages:studio-create": (OPERATE, OPERATE),
    "pages:studio-detail": (VIEW, VIEW),
    "pages:studio-edit": (OPERATE, OPERATE),
    "pages:studio-publish": (NO, OPERATE),
    "pages:studio-unpublish": (NO, OPERATE),
    "pages:studio-delete": (NO, ADMIN),
    "pages:studio-access": (NO, OPERATE),
    "pages:studio-access-delete": (NO, ADMIN),
    "pages:code-list": (VIEW, VIEW),
    "pages:code-create": (OPERATE, OPERATE),
    "pages:code-bulk-delete": (NO, ADMIN),
    "pages:code-detail": (VIEW, VIEW),
    "pages:code-edit": (OPERATE, OPERATE),
    "pages:code-archive": (NO, OPERATE),
    "pages:code-unarchive": (NO, OPERATE),
    "pages:code-delete": (NO, ADMIN),
    "pages:code-access": (NO, OPERATE),
    "pages:code-access-delete": (NO, ADMIN),
    # Notification rules are their owner's: each identity gets its own rule (another's is a 404, tests/notify).
    "notify:list": (LOGIN, NO),
    "notify:create": (LOGIN, LOGIN),
    "notify:detail": (LOGIN, NO),
    "notify:edit": (LOGIN, LOGIN),
    "notify:test": (NO, LOGIN),
    "notify:secret": (NO, LOGIN),
    "notify:delete": (NO, LOGIN),
    "promote:compare": (VIEW, NO),
    "promote:dry-run": (VIEW, NO),
    "promote:start": (NO, OPERATE),
    "promote:dependents": (VIEW, NO),
    "promote:drift": (VIEW, NO),
    "promote:page-compare": (VIEW, NO),
    "promote:page-promote": (NO, OPERATE),  # and admin on the target connection (tests/promote)  # and admin on the target connection (tests/promote)
    "sandbox:index": (SUPER, SUPER),
    "sandbox:settings": (NO, SUPER),
    "sandbox:reset_log": (NO, SUPER),
    "sandbox:api": (APIKEY, APIKEY),
    "sandbox:api_root": (APIKEY, APIKEY),
}


def url_patterns(resolver=None, prefix="", namespace=""):
    """(name, route) of every pattern the project serves, nested includes walked."""
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            yield from url_patterns(p, prefix + str(p.pattern), namespace + (f"{p.namespace}:" if p.namespace else ""))
        elif isinstance(p, URLPattern):
            yield (namespace + p.name if p.name else f"<unnamed {prefix}{p.pattern}>"), prefix + str(p.pattern)


PATTERNS = dict(url_patterns())


def test_every_url_pattern_has_an_expectation():
    check_coverage(PATTERNS)
    assert len(PATTERNS) >= 140  # the walk really went through the includes


def check_coverage(patterns: dict) -> None:
    missing = sorted(set(patterns) - set(ACCESS))
    assert not missing, ("New URL patterns without a role expectation: add each to ACCESS in "
                         f"tests/test_role_matrix.py, saying who may GET and POST it: {missing}")
    stale = sorted(set(ACCESS) - set(patterns))
    assert not stale, f"ACCESS lists patterns the project no longer serves: {stale}"


@pytest.fixture
def connection(sandbox_connection):
    """The cast's connection is a sandbox portal answering over real HTTP (overrides conftest's)."""
    return sandbox_connection("acme", slug="demo", datasets=2, users=2, groups=1, harvesters=1, pages=2)


@pytest.fixture
def world(cast, connection, no_enqueue):
    """Values for every URL keyword, from real objects: the sandbox's dataset, harvester, user, group, pages;
    a job and drafts on the connection; a membership; a person of the team."""
    from portaladmin.fleet.kinds import OFFBOARD_KIND
    from portaladmin.jobs.services import job_create
    from portaladmin.people.models import DraftKind, RowsDraft
    from portaladmin.sandbox.models import SandboxDataset, SandboxHarvester, SandboxObject

    objects = {(o.kind, o.parent): o.key for o in SandboxObject.objects.filter(portal__name="acme")}
    dataset = SandboxDataset.objects.filter(portal__name="acme").order_by("id").first().uid
    studio = next(k for (kind, _), k in objects.items() if kind == "studio_page")
    job = job_create(kind="dataset.publish", actor=cast["operator"], targets={connection: [dataset]})
    offboard = job_create(kind=OFFBOARD_KIND, actor=cast["admin"], targets={connection: ["hugo.durand1"]})

    def drafts_for(user):
        made = {}
        for kind, group in ((DraftKind.INVITE, ""), (DraftKind.BATCH_ADD, "content_designers")):
            draft = RowsDraft.objects.create(kind=kind, created_by=user, connection=connection, group_uid=group,
                                             rows=[{"line": 1, "target": "x@example.org", "label": "",
                                                    "payload": {}}])
            draft.connections.set([connection])
            made[kind] = draft.pk
        return made

    def rules_for(user):
        from portaladmin.notify.models import Rule

        return Rule.objects.create(owner=user, name=f"{user.username}'s rule", events=["job.failed"]).pk

    return {
        "rules_for": rules_for,
        "conn": connection.slug, "dataset": dataset,
        "harvester": SandboxHarvester.objects.filter(portal__name="acme").first().uid,
        "resource_uid": objects.get(("resource", dataset), "re_x"),
        "processor_uid": objects.get(("processor", dataset), "pr_x"),
        "schedule_uid": objects.get(("schedule", dataset), "sc_x"),
        "version_uid": objects.get(("version", dataset), "ch_x"),
        "studio": studio, "job": job.pk, "offboard": offboard.pk, "drafts_for": drafts_for,
        "membership": Membership.objects.get(user=cast["viewer"], connection=connection).pk,
        "key_uid": objects.get(("apikey", ""), "ak_x"), "ds_uid": objects.get(("connection", ""), "co_x"),
        "member": cast["viewer"].pk,
    }


def kwargs_for(name: str, route: str, world: dict, user) -> dict:
    from portaladmin.people.models import DraftKind

    app = name.split(":")[0]
    values = {
        "conn": world["conn"], "action": "publish", "template": "default", "field": "title", "tab": "resources",
        "resource_uid": world["resource_uid"], "processor_uid": world["processor_uid"], "field_uid": "title",
        "schedule_uid": world["schedule_uid"], "version_uid": world["version_uid"], "attachment_uid": "at_x",
        "export_uid": "ae_x", "feedback_uid": "df_x", "direction": "down", "field_name": "region",
        "kind": "user", "principal": "hugo.durand1", "target_kind": "user", "target": "hugo.durand1",
        "username": "hugo.durand1", "group_uid": "content_designers", "slug": "home",
        "key": world["studio"] if "studio" in name else "home",
        "uid": {"harvesters": world["harvester"], "pages": world["studio"]}.get(app, world["dataset"]),
        "job_id": world["offboard"] if name == "fleet:offboard" else world["job"],
        "pk": world["membership"] if app == "portals" else world["member"],
        "draft_id": None,
        "name": "acme", "portal": "acme", "rest": "datasets/",
        "uidb64": "MQ", "token": "set-password", "key_uid": world["key_uid"], "ds_uid": world["ds_uid"],
    }
    if "harvester-abort" in name:
        values["uid"] = world["harvester"]
    wanted = re.findall(r"<(?:\w+:)?(\w+)>", route)
    if "rule_id" in wanted:  # rules are their owner's: one of this person's own
        values["rule_id"] = world["rules_for"](user)
    if "draft_id" in wanted:  # drafts are their author's: one of this person's own
        values["draft_id"] = world["drafts_for"](user)[DraftKind.BATCH_ADD if "batch" in name else DraftKind.INVITE]
    return {key: values[key] for key in wanted}


def _writes() -> tuple:
    """Everything a write leaves behind: audit events (log-ins aside), jobs, write requests to the portal."""
    portal_writes = (SandboxRequestCount.objects.exclude(method="GET").aggregate(n=Sum("count"))["n"] or 0)
    return (AuditEvent.objects.exclude(action__startswith="auth.").count(), Job.objects.count(), portal_writes)


def _client(identity, cast) -> Client:
    client = Client()
    if identity != "anonymous":
        client.force_login(cast[identity])
    return client


def _send(client, method, url):
    return client.get(url) if method == "get" else client.post(url, {})


def _role_of(identity) -> int:
    return {"viewer": 1, "operator": 2, "admin": 3, "superuser": 3}.get(identity, 0)


@pytest.mark.parametrize("name", sorted(ACCESS), ids=sorted(ACCESS))
def test_role_matrix(name, world, cast, settings):
    if name not in PATTERNS:
        pytest.fail(f"{name} is listed in ACCESS but not served")
    settings.AXES_ENABLED = False  # empty log-in posts are not attacks to count here
    check_pattern(name, PATTERNS[name], ACCESS[name], world, cast)


def check_pattern(name: str, route: str, access: tuple[str, str], world: dict, cast: dict) -> None:
    for method, level in zip(("get", "post"), access, strict=True):
        baseline = None
        for identity in ["superuser", *[i for i in IDENTITIES if i != "superuser"]]:
            client = _client(identity, cast)
            url = reverse(name, kwargs=kwargs_for(name, route, world, cast.get(identity, cast["superuser"])))
            allowed = _allowed(level, identity)
            if allowed and method == "post" and level not in (PUBLIC, APIKEY) and not _read_only_here(level, identity):
                continue  # allowed writes are the app matrices' business (they would change the fixtures)
            before = _writes()
            response = _send(client, method, url)
            where = f"{method.upper()} {url} as {identity} ({level}) → {response.status_code}"
            assert response.status_code < 500, where
            if identity == "superuser":
                baseline = response.status_code
            if level == NO:  # (anonymous: sent to log in, or 405 from a public view)
                assert response.status_code in ((302, 405) if identity == "anonymous" else (403, 404, 405)), where
            elif level == APIKEY:
                assert response.status_code == 401, where  # a session is not a key
            elif identity == "anonymous" and level != PUBLIC:
                assert response.status_code == 302 and response["Location"].startswith(reverse("login")), where
            elif not allowed:
                # an outsider must not learn that the connection exists; a member with too low a role is told why
                expected = 404 if identity == "outsider" and level in RANK else 403
                assert response.status_code == expected, where
            elif level != PUBLIC and baseline is not None:
                assert response.status_code == baseline, f"{where}, but {baseline} for the superuser"
            if not allowed or (method == "post" and _read_only_here(level, identity)):
                assert _writes() == before, f"{where} wrote something"


def _read_only_here(level: str, identity: str) -> bool:
    """Pages open to anyone logged in whose POSTs write only where the person's roles allow (the fleet's bulk
    actions, offboarding): an outsider's or a viewer's POST must write nothing."""
    return level == LOGIN and identity in ("outsider", "viewer")


def _allowed(level: str, identity: str) -> bool:
    if level in (PUBLIC, APIKEY):
        return True
    if identity == "anonymous" or level == NO:
        return False
    if level == LOGIN:
        return True
    if level == SUPER:
        return identity == "superuser"
    return _role_of(identity) >= RANK[level]


def test_the_matrix_notices_a_view_without_a_check(world, cast):
    """The expectations are enforced, not decorative: a new connection view that forgets its role check fails
    both the coverage test (not listed) and the matrix (once listed, an outsider gets a 200)."""
    from django.http import HttpResponse
    from django.urls import clear_url_caches, path

    from portaladmin import urls as project_urls

    def careless(request, conn):  # no get_connection_for(): anyone logged in gets the page
        return HttpResponse("secret")

    original = list(project_urls.urlpatterns)
    project_urls.urlpatterns.append(path("c/<slug:conn>/careless/", careless, name="careless"))
    clear_url_caches()
    try:
        patterns = dict(url_patterns())
        with pytest.raises(AssertionError, match="careless"):
            check_coverage(patterns)
        with pytest.raises(AssertionError, match="as outsider"):
            check_pattern("careless", patterns["careless"], (VIEW, NO), world, cast)
    finally:
        project_urls.urlpatterns[:] = original
        clear_url_caches()
