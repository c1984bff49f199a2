"""Users and groups."""

import csv
import io


def usernames(answer):
    return [u["username"] for u in answer.json["results"]]


def test_users_list_search_sort_and_permission_filters(api):
    everyone = api.get("/users/", query={"limit": 100})
    assert everyone.json["total_count"] == 6
    admin = api.get("/users/", query={"search": "ADMIN"})
    assert usernames(admin) == ["admin"]
    by_name = api.get("/users/", query={"sort": "-username", "limit": 100}, check_request=False)  # "-": descending
    assert usernames(by_name) == sorted(usernames(everyone), reverse=True)
    assert usernames(api.get("/users/", query={"permissions": "edit_domain"})) == ["admin"]
    api.post("/groups/", {"title": "Domain helpers", "uid": "helpers", "permissions": ["edit_theme"]})
    target = usernames(everyone)[1]
    api.post("/groups/helpers/users/", {"username": target})
    effective = usernames(api.get("/users/", query={"all_permissions": "edit_theme"}))
    assert set(effective) == {"admin", target}
    assert api.get("/users/", query={"sort": "email"}, check_request=False).status == 400


def test_user_retrieve_update_and_groups_field(api):
    user = api.get("/users/admin/")
    assert user.json["email"].startswith("admin@") and user.json["permissions"]
    assert api.get("/users/nobody/").status == 404
    other = usernames(api.get("/users/", query={"limit": 100}))[2]
    updated = api.put(f"/users/{other}/", {"email": "new@example.org", "first_name": "New",
                                           "permissions": ["edit_dataset"]})
    assert updated.status == 200 and updated.json["first_name"] == "New"
    assert api.put(f"/users/{other}/", {"email": "not-an-email"}).status == 400


def test_the_last_domain_administrator_cannot_be_deleted_or_demoted(api):
    refused = api.delete("/users/admin/")
    assert refused.status == 400
    assert refused.json["message"] == "The removal of the only domain administrator is not allowed."
    assert api.put("/users/admin/", {"email": "admin@acme.example.org", "permissions": []}).status == 400
    other = usernames(api.get("/users/", query={"limit": 100}))[1]
    api.put(f"/users/{other}/", {"email": "o@example.org", "permissions": ["edit_domain"]})
    assert api.delete("/users/admin/").status == 204
    assert api.get("/users/admin/").status == 404


def test_export_is_csv_with_the_requested_delimiter(api):
    answer = api.get("/users/export/", query={"delimiter": ";"})
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode()), delimiter=";"))
    assert rows[0][:2] == ["username", "email"] and len(rows) == 7


def test_invite_answers_per_position_with_mixed_results(api):
    existing = api.get("/users/admin/").json["email"]
    answer = api.post("/users/invite/", [{"email": "new.person@example.org", "permissions": ["edit_dataset"]},
                                         {"email": existing}, {"email": "not an email"},
                                         {"email": "new.person@example.org"}], check_request=False)
    assert answer.status == 200
    body = answer.json
    assert set(body) == {"0", "1", "2", "3"}
    assert body["0"]["status_code"] == "success"
    assert body["0"]["data"]["username"] == "new.person" and body["0"]["data"]["permissions"] == ["edit_dataset"]
    assert body["1"]["status_code"] == "error" and body["1"]["error"]["error_code"] == "already_member"
    assert body["2"]["status_code"] == "error" and body["2"]["error"]["error_code"] == "validation_error"
    assert body["3"]["error"]["error_code"] == "already_member"
    assert api.get("/users/new.person/").status == 200


def test_provision_needs_an_identity_provider(api):
    answer = api.post("/users/provision/", {"email": "sso.user@example.org",
                                            "identity_provider": {"uid": "opendatasoft"}})
    assert answer.json["0"]["status_code"] == "success"
    missing = api.post("/users/provision/", {"email": "x@example.org"}, check_request=False)
    assert missing.status == 400


def test_groups_crud(api):
    listed = api.get("/groups/")
    assert listed.json["total_count"] == 3
    created = api.post("/groups/", {"title": "Press team", "description": "Journalists",
                                    "permissions": ["explore_restricted_dataset"]})
    assert created.status == 201 and created.json["uid"] == "press_team" and created.json["user_count"] == 0
    assert api.post("/groups/", {"title": "Press team"}).status == 400
    assert api.post("/groups/", {"description": "no title"}, check_request=False).status == 400
    assert api.get("/groups/", query={"search": "press"}).json["total_count"] == 1
    assert api.put("/groups/press_team/", {"uid": "press_team", "title": "Press"}).json["title"] == "Press"
    assert api.delete("/groups/press_team/").status == 204
    assert api.get("/groups/press_team/").status == 404


def test_group_members_add_batch_and_remove(api):
    api.post("/groups/", {"title": "Crew", "uid": "crew"})
    names = usernames(api.get("/users/", query={"limit": 100}))
    added = api.post("/groups/crew/users/", {"username": names[1]})
    assert added.status == 201 and {"uid": "crew"} in added.json["groups"]
    assert api.post("/groups/crew/users/", {"username": names[1]}).status == 400
    batch = api.post("/groups/crew/users/batch/", [{"username": names[2]}, {"username": "ghost"},
                                                   {"username": names[1]}])
    assert batch.json["0"]["status_code"] == "success"
    assert batch.json["1"]["status_code"] == "error" and "ghost" in batch.json["1"]["error"]["message"]
    assert batch.json["2"]["status_code"] == "error"
    members = api.get("/groups/crew/users/")
    assert usernames(members) == [names[1], names[2]]
    assert api.get("/groups/crew/").json["user_count"] == 2
    assert api.delete(f"/groups/crew/users/{names[1]}/").status == 204
    assert api.delete(f"/groups/crew/users/{names[1]}/").status == 404
    assert usernames(api.get("/groups/crew/users/")) == [names[2]]
