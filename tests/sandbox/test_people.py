

def test_group_list_accepts_every_sort_choice_of_the_spec(api):
    for key in ["created_at", "updated_at", "created_by__username", "updated_by__username", "user_count",
                "group__title"]:
        assert api.get("/groups/", query={"sort": key}).status == 200, key
    titles = [g["title"].lower() for g in api.get("/groups/", query={"sort": "group__title", "limit": 100}).json["results"]]
    assert titles == sorted(titles)
