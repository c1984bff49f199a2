"""Studio pages, code editor pages, API keys, datasource connections, assets."""

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.sandbox.helpers import SandboxApi


def test_studio_pages_crud_publish_and_rulesets(api):
    assert api.get("/studio_pages/").json["total_count"] == 2
    created = api.post("/studio_pages/", {"slug": "my-page", "public": True})
    assert created.status == 201 and created.json["uid"].startswith("sp_")
    uid = created.json["uid"]
    assert "first_published_at" not in created.json
    assert api.post("/studio_pages/", {"slug": "my-page"}).status == 400
    assert api.put(f"/studio_pages/{uid}/", {"slug": "renamed"}).json["slug"] == "renamed"
    assert api.post(f"/studio_pages/{uid}/publish/").json == {"detail": "ok"}
    page = api.get(f"/studio_pages/{uid}/").json
    assert page["first_published_at"] and {c["version_name"] for c in page["contents"]} == {"draft", "published"}
    api.post(f"/studio_pages/{uid}/unpublish/")
    assert [c["version_name"] for c in api.get(f"/studio_pages/{uid}/").json["contents"]] == ["draft"]

    ruleset = api.post(f"/studio_pages/{uid}/security/users/", {"user": {"username": "admin"},
                                                                "permissions": ["edit_page"]})
    assert ruleset.status == 200
    assert api.get(f"/studio_pages/{uid}/security/users/").json["total_count"] == 1
    bad = api.post(f"/studio_pages/{uid}/security/groups/", {"group": {"uid": "analysts"},
                                                             "permissions": ["manage_page"]}, check_request=False)
    assert bad.status == 400
    assert api.post(f"/studio_pages/{uid}/security/groups/", {"group": {"uid": "analysts"}}).status == 200
    assert api.delete(f"/studio_pages/{uid}/security/groups/analysts/").status == 204
    assert api.delete(f"/studio_pages/{uid}/").status == 204
    assert api.get(f"/studio_pages/{uid}/").status == 404


def test_code_editor_pages_crud_archive_and_bulk_delete(api):
    listed = api.get("/code_editor_pages/").json
    assert {p["slug"] for p in listed["results"]} == {"home", "about"}
    body = {"slug": "hello", "title": {"en": "Hello world"}, "description": "hi",
            "content": {"html": {"en": "<p>Hello</p>"}, "css": {"en": ""}}, "tags": ["demo"]}
    created = api.post("/code_editor_pages/", body)
    assert created.status == 201 and created.json["is_archived"] is False
    assert api.post("/code_editor_pages/", body).status == 400
    assert api.post("/code_editor_pages/", {"slug": "x"}, check_request=False).status == 400
    assert api.post("/code_editor_pages/hello/archive/").json == {"detail": "ok"}
    assert api.get("/code_editor_pages/hello/").json["is_archived"] is True
    assert api.put("/code_editor_pages/hello/", body).status == 400  # archived pages cannot be edited
    api.post("/code_editor_pages/hello/unarchive/")
    assert api.put("/code_editor_pages/hello/", {**body, "description": "changed"}).json["description"] == "changed"
    assert api.post("/code_editor_pages/hello/security/users/", {"user": {"username": "admin"},
                                                                 "permissions": ["manage_page"]}).status == 200

    by_slug = api.delete("/code_editor_pages/", query={"slug": ["hello", "home", "missing"]})
    assert by_slug.status == 200 and sorted(by_slug.json) == ["hello", "home"]
    by_search = api.delete("/code_editor_pages/", query={"search": "abou"})
    assert by_search.json == ["about"]
    assert api.get("/code_editor_pages/").json["total_count"] == 0
    assert api.delete("/code_editor_pages/").status == 400


def test_api_keys_create_revoke_and_revoked_keys_stop_working(api, client):
    listed = api.get("/apikeys/").json
    assert listed["total_count"] == 1 and "key" not in listed["results"][0]
    created = api.post("/apikeys/", {"label": "CI", "permissions": ["edit_dataset"]})
    assert created.status == 201 and len(created.json["key"]) == 56
    other = SandboxApi(client, "acme", created.json["key"])
    assert other.get("/datasets/", query={"limit": 1}).status == 200
    found = api.post("/apikeys/search_key/", {"key": created.json["key"]}).json
    assert found["found"] is True and found["result"]["uid"] == created.json["uid"]
    revoked = api.post(f"/apikeys/{created.json['uid']}/revoke/", {"reason": "leaked"})
    assert revoked.json["is_revoked"] is True
    assert revoked.json["revocation_status"]["revocation_reason"] == "leaked"
    assert other.get("/datasets/", query={"limit": 1}).status == 401
    assert api.post("/apikeys/", {"label": "bad", "permissions": ["fly"]}, check_request=False).status == 400


def test_datasource_connections_and_assets(api):
    connections = api.get("/datasource_connections/").json
    assert connections["total_count"] == 1 and connections["results"][0]["uid"] == "co_sandbx"
    created = api.post("/datasource_connections/", {"type": "http", "url": "https://new.example.org"})
    assert created.status == 201 and created.json["uid"].startswith("co_")
    assert api.post("/datasource_connections/", {"type": "http"}, check_request=False).status == 400
    images = api.get("/medias/images/").json
    assert images["total_count"] == 2
    upload = SimpleUploadedFile("logo2.png", b"\x89PNG", content_type="image/png")
    added = api.call("POST", "/medias/images/", files={"file": upload}, check_request=False)
    assert added.status == 201 and added.json == {"url": "/assets/theme_image/logo2.png"}


def test_datasource_connection_secrets_are_stored_never_returned(api):
    body = {"type": "http", "url": "https://files.example.org", "headers": [{"name": "X-Token", "value": "hdr-secret-9"}],
            "auth": {"type": "basic_auth", "username": "loader", "password": "pw-secret-9"}}
    created = api.post("/datasource_connections/", body)
    uid = created.json["uid"]
    edited = api.put(f"/datasource_connections/{uid}/", {"type": "http", "url": "https://files2.example.org"})
    for answer in (created, edited, api.get(f"/datasource_connections/{uid}/"), api.get("/datasource_connections/")):
        assert "pw-secret-9" not in str(answer.json) and "hdr-secret-9" not in str(answer.json)
    assert edited.json["auth"] == {"type": "basic_auth", "username": "loader"}  # kept, without its password
    from portaladmin.sandbox.models import SandboxObject
    assert SandboxObject.objects.get(kind="connection", key=uid).data["auth"]["password"] == "pw-secret-9"
    no_user = {"type": "http", "url": "https://x.example.org", "auth": {"type": "basic_auth", "password": "p"}}
    refused = api.post("/datasource_connections/", no_user, check_request=False)
    assert refused.status == 400 and "username" in refused.json["detail"]["auth"]


def test_revoking_the_seeded_key_locks_its_holder_out(api):
    seeded_key = api.get("/apikeys/").json["results"][0]
    assert seeded_key["label"] == "portaladmin (sandbox seed)"
    assert api.post(f"/apikeys/{seeded_key['uid']}/revoke/", {}).status == 200
    assert api.get("/datasets/").status == 401


def test_keys_made_with_limited_permissions_get_403_beyond_them(api, client):
    uid = api.get("/datasets/", query={"limit": 1}).json["results"][0]["uid"]
    editor_key = api.post("/apikeys/", {"label": "editor", "permissions": ["edit_dataset"]}).json["key"]
    editor = SandboxApi(client, "acme", editor_key)
    assert editor.get(f"/datasets/{uid}/").status == 200
    assert editor.put(f"/datasets/{uid}/metadata/default/publisher/", {"value": "Me"}).status == 200
    refused = editor.post(f"/datasets/{uid}/publish/")
    assert refused.status == 403 and refused.json["error_code"] == "permission_denied"
    assert "publish_dataset" in refused.json["message"]
    assert editor.get("/users/").status == 403
    assert editor.post("/studio_pages/", {"slug": "nope"}).status == 403
    admin_key = api.post("/apikeys/", {"label": "admin", "permissions": ["edit_domain"]}).json["key"]
    assert SandboxApi(client, "acme", admin_key).post(f"/datasets/{uid}/publish/").status == 200
