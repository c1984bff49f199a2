"""Services and selectors through the real client against `responses`; every request is checked by the spec oracle."""

import pytest
from responses import matchers

from portaladmin.audit.models import AuditEvent, Outcome
from portaladmin.pages import selectors, services
from portaladmin.pages.content import page_languages, wire_content
from portaladmin.portals.client.errors import PortalNotFound, PortalUnavailable, PortalValidationError
from tests.pages.conftest import code_page, paginated, studio_page

DUPLICATE = {"error_code": "validation_error", "message": "Invalid data.",
             "detail": {"slug": ["A page with this slug already exists."]}}


@pytest.fixture
def actor(make_user):
    return make_user("oscar")


def only_event():
    events = list(AuditEvent.objects.all())
    assert len(events) == 1, events
    return events[0]


# ------------------------------------------------------------------------------------------ studio pages


def test_studio_create_sends_slug_and_public_and_audits(api, connection, actor):
    api.expect("POST", "/studio_pages/", status=201, body=studio_page(slug="my-page", public=True),
               match=[matchers.json_params_matcher({"slug": "my-page", "public": True})])
    page = services.studio_page_create(connection=connection, actor=actor, slug="my-page", public=True)
    assert page.uid == "sp_abc123"
    event = only_event()
    assert (event.action, event.target, event.outcome, event.actor) == ("studio_page.create", "my-page",
                                                                         Outcome.SUCCESS, actor)


def test_studio_create_duplicate_slug_raises_validation_error_and_audits_failure(api, connection, actor):
    api.expect("POST", "/studio_pages/", status=400, body=DUPLICATE)
    with pytest.raises(PortalValidationError) as caught:
        services.studio_page_create(connection=connection, actor=actor, slug="taken", public=False)
    assert caught.value.detail == DUPLICATE["detail"]
    event = only_event()
    assert event.outcome == Outcome.FAILURE and "Invalid data" in event.error


def test_studio_update_puts_slug_and_public(api, connection, actor):
    api.expect("PUT", "/studio_pages/sp_abc123/", body=studio_page(slug="renamed"),
               match=[matchers.json_params_matcher({"slug": "renamed", "public": False})])
    services.studio_page_update(connection=connection, actor=actor, uid="sp_abc123", slug="renamed", public=False)
    assert only_event().action == "studio_page.update"


@pytest.mark.parametrize("service, method, path, action", [
    (services.studio_page_publish, "POST", "/studio_pages/sp_abc123/publish/", "studio_page.publish"),
    (services.studio_page_unpublish, "POST", "/studio_pages/sp_abc123/unpublish/", "studio_page.unpublish"),
    (services.studio_page_delete, "DELETE", "/studio_pages/sp_abc123/", "studio_page.delete"),
])
def test_studio_actions_send_no_body_and_audit(api, connection, actor, service, method, path, action):
    api.expect(method, path, status=204 if method == "DELETE" else 200,
               body=None if method == "DELETE" else {"detail": "ok"})
    service(connection=connection, actor=actor, uid="sp_abc123")
    assert api.calls[0].request.body is None
    event = only_event()
    assert (event.action, event.target, event.outcome) == (action, "sp_abc123", Outcome.SUCCESS)


def test_studio_publish_of_missing_page_is_audited_as_failure(api, connection, actor):
    api.expect("POST", "/studio_pages/sp_gone/publish/", status=404,
               body={"error_code": "not_found", "message": "Not found."})
    with pytest.raises(PortalNotFound):
        services.studio_page_publish(connection=connection, actor=actor, uid="sp_gone")
    assert only_event().outcome == Outcome.FAILURE


def test_studio_state_and_list(api, connection):
    api.expect("GET", "/studio_pages/?limit=1000&offset=0", body=paginated([
        studio_page("sp_b", "b-page", published=True), studio_page("sp_a", "a-page")]))
    rows = selectors.studio_page_list(connection=connection)
    assert [(r.page.slug, r.state, r.title) for r in rows] == [("a-page", "draft", "Welcome"),
                                                               ("b-page", "published", "Welcome")]


def test_studio_state_without_contents_falls_back_to_first_published():
    from portaladmin.portals.client.schemas import StudioPage

    assert selectors.studio_page_state(StudioPage.from_dict({"uid": "sp_1", "contents": []})) == "draft"
    assert selectors.studio_page_state(StudioPage.from_dict(
        {"uid": "sp_1", "first_published_at": "2026-01-01T00:00:00Z"})) == "published"
    assert selectors.studio_page_state(StudioPage.from_dict({"uid": "sp_1", "is_published": False,
                                                             "first_published_at": "2026"})) == "draft"


def test_access_reads_user_and_group_rulesets(api, connection):
    api.expect("GET", "/studio_pages/sp_abc123/security/users/?limit=100&offset=0", body=paginated([
        {"user": {"username": "louise"}, "permissions": ["edit_page"]}]))
    api.expect("GET", "/studio_pages/sp_abc123/security/groups/?limit=100&offset=0", body=paginated([
        {"group": {"uid": "readers"}, "permissions": []}]))
    from portaladmin.portals.client.schemas import StudioPage

    access = selectors.studio_page_access(connection=connection, page=StudioPage.from_dict(studio_page()))
    assert access.restricted is True
    assert [r.target for r in access.rulesets] == ["louise", "readers"]
    assert [r.target for r in access.editors] == ["louise"]


# ------------------------------------------------------------------------------------------ code editor pages


LANGS = [{"language": "en", "title": "Hello", "html": "<p>Hi</p>", "css": "p{color:red}"},
         {"language": "fr", "title": "Bonjour", "html": "<p>Salut</p>", "css": ""}]


def test_code_create_body_follows_the_spec_and_audits(api, connection, actor):
    body = services.code_page_body(slug="hello", languages=LANGS, description="d", template="custom.html",
                                   tags=["news"], is_restricted=True)
    assert body["title"] == {"en": "Hello", "fr": "Bonjour"}
    assert body["content"] == {"html": {"en": "<p>Hi</p>", "fr": "<p>Salut</p>"}, "css": {"en": "p{color:red}", "fr": ""}}
    api.expect("POST", "/code_editor_pages/", status=201, body=code_page("hello"),
               match=[matchers.json_params_matcher(body)])
    page = services.code_page_create(connection=connection, actor=actor, body=body)
    assert page.slug == "hello"
    event = only_event()
    assert (event.action, event.target, event.outcome) == ("code_page.create", "hello", Outcome.SUCCESS)


def test_code_body_leaves_empty_template_out(api):
    body = services.code_page_body(slug="x", languages=LANGS[:1])
    assert "template" not in body and body["tags"] == [] and body["is_restricted"] is False


def test_code_create_duplicate_slug_is_audited_as_failure(api, connection, actor):
    api.expect("POST", "/code_editor_pages/", status=400, body=DUPLICATE)
    with pytest.raises(PortalValidationError):
        services.code_page_create(connection=connection, actor=actor,
                                  body=services.code_page_body(slug="taken", languages=LANGS))
    assert only_event().outcome == Outcome.FAILURE


def test_code_update_records_a_rename(api, connection, actor):
    body = services.code_page_body(slug="new-name", languages=LANGS)
    api.expect("PUT", "/code_editor_pages/old-name/", body=code_page("new-name"),
               match=[matchers.json_params_matcher(body)])
    services.code_page_update(connection=connection, actor=actor, slug="old-name", body=body)
    event = only_event()
    assert event.target == "old-name" and event.extra == {"new_slug": "new-name"}


@pytest.mark.parametrize("service, method, path, action", [
    (services.code_page_archive, "POST", "/code_editor_pages/hello/archive/", "code_page.archive"),
    (services.code_page_unarchive, "POST", "/code_editor_pages/hello/unarchive/", "code_page.unarchive"),
    (services.code_page_delete, "DELETE", "/code_editor_pages/hello/", "code_page.delete"),
])
def test_code_actions_audit(api, connection, actor, service, method, path, action):
    api.expect(method, path, status=204 if method == "DELETE" else 200,
               body=None if method == "DELETE" else {"detail": "ok"})
    service(connection=connection, actor=actor, slug="hello")
    event = only_event()
    assert (event.action, event.target, event.outcome) == (action, "hello", Outcome.SUCCESS)


def test_bulk_delete_sends_one_delete_with_every_slug(api, connection, actor):
    api.expect("DELETE", "/code_editor_pages/", body=["a", "b"],
               match=[matchers.query_param_matcher({"slug": ["a", "b", "c"]})])
    deleted = services.code_page_bulk_delete(connection=connection, actor=actor, slugs=["a", "b", "c", "a"])
    assert deleted == ["a", "b"]
    assert len(api.calls) == 1
    event = only_event()
    assert event.action == "code_page.bulk_delete" and event.outcome == Outcome.SUCCESS
    assert event.extra == {"requested": ["a", "b", "c"], "deleted": ["a", "b"], "not_deleted": ["c"]}


def test_bulk_delete_failure_is_audited_and_raised(api, connection, actor):
    api.expect("DELETE", "/code_editor_pages/", status=500,
               body={"error_code": "internal_error", "message": "A server error occurred.", "trace_id": "t1"})
    with pytest.raises(PortalUnavailable):
        services.code_page_bulk_delete(connection=connection, actor=actor, slugs=["a"])
    event = only_event()
    assert event.outcome == Outcome.FAILURE and event.extra == {"requested": ["a"]}


def test_code_list_searches_and_filters_by_tag_locally(api, connection):
    api.expect("GET", "/code_editor_pages/?limit=1000&offset=0", body=paginated([
        code_page("zeta", tags=["news", "home"]), code_page("alpha", tags=["home"], title="Budget 2026"),
        code_page("beta", tags=[], title="Other")]))
    rows, tags = selectors.code_page_list(connection=connection, search="budget", tag="home")
    assert [r.page.slug for r in rows] == ["alpha"]
    assert tags == ["home", "news"]


def test_code_get_reads_languages_and_state(api, connection):
    api.expect("GET", "/code_editor_pages/hello_world/", body=code_page(archived=True))
    row = selectors.code_page_get(connection=connection, slug="hello_world")
    assert row.state == "archived"
    assert row.languages[0] == {"language": "en", "title": "Hello world", "html": "<p>Hello</p>", "css": "p{}"}


def test_page_languages_reads_both_content_shapes():
    spec_shape = page_languages({"en": "T"}, wire_content([{"language": "en", "title": "T", "html": "<b>", "css": "b{}"}]))
    other_shape = page_languages({"en": "T"}, {"en": {"html": "<b>", "css": "b{}"}})
    assert spec_shape == other_shape == [{"language": "en", "title": "T", "html": "<b>", "css": "b{}"}]


# ------------------------------------------------------------------------------------------ rulesets


def test_ruleset_save_creates_when_the_target_has_none(api, connection, actor):
    api.expect("GET", "/code_editor_pages/hello/security/users/louise/", status=404,
               body={"error_code": "not_found", "message": "Not found."})
    api.expect("POST", "/code_editor_pages/hello/security/users/",
               body={"user": {"username": "louise"}, "permissions": ["edit_page", "manage_page"]},
               match=[matchers.json_params_matcher({"user": {"username": "louise"},
                                                    "permissions": ["edit_page", "manage_page"]})])
    services.page_ruleset_save(connection=connection, actor=actor, kind="code", key="hello", target_kind="user",
                               target="louise", permissions=["edit_page", "manage_page"])
    event = only_event()
    assert event.action == "code_page.ruleset_save" and event.extra["replaced"] is False


def test_ruleset_save_replaces_existing_permissions(api, connection, actor):
    api.expect("GET", "/studio_pages/sp_1/security/groups/readers/",
               body={"group": {"uid": "readers"}, "permissions": ["edit_page"]})
    api.expect("PUT", "/studio_pages/sp_1/security/groups/readers/",
               body={"group": {"uid": "readers"}, "permissions": []},
               match=[matchers.json_params_matcher({"group": {"uid": "readers"}, "permissions": []})])
    services.page_ruleset_save(connection=connection, actor=actor, kind="studio", key="sp_1", target_kind="group",
                               target="readers", permissions=[])
    assert only_event().extra["replaced"] is True


def test_ruleset_delete_audits(api, connection, actor):
    api.expect("DELETE", "/studio_pages/sp_1/security/users/louise/", status=204)
    services.page_ruleset_delete(connection=connection, actor=actor, kind="studio", key="sp_1", target_kind="user",
                                 target="louise")
    event = only_event()
    assert (event.action, event.target) == ("studio_page.ruleset_delete", "sp_1 user:louise")


def test_ruleset_rejects_unknown_kinds(connection, actor):
    with pytest.raises(ValueError):
        services.page_ruleset_delete(connection=connection, actor=actor, kind="dataset", key="x",
                                     target_kind="user", target="u")
