"""Pagination: *_iter walks pages with limit <= 1000 and offset; *_count asks limit=0."""

from __future__ import annotations

import pytest

from tests.client import payloads as p
from tests.client.conftest import split_call
from tests.oracle import requires_spec

pytestmark = requires_spec


def _datasets(n):
    return [{**p.DATASET, "uid": f"da_{i}", "dataset_id": f"ds-{i}"} for i in range(n)]


def test_dataset_iter_walks_every_page(api, portal):
    items = _datasets(5)
    api.expect("GET", "/datasets/", body=p.page(items[0:2], total=5, next_url="https://x/next"))
    api.expect("GET", "/datasets/", body=p.page(items[2:4], total=5, next_url="https://x/next"))
    api.expect("GET", "/datasets/", body=p.page(items[4:5], total=5))
    got = [d.uid for d in portal.dataset_iter(page_size=2)]
    assert got == [f"da_{i}" for i in range(5)]
    assert [split_call(c)[2] for c in api.calls] == [
        {"limit": ["2"], "offset": ["0"]}, {"limit": ["2"], "offset": ["2"]}, {"limit": ["2"], "offset": ["4"]},
    ]


def test_dataset_iter_default_page_size_is_1000(api, portal):
    api.expect("GET", "/datasets/", body=p.page(_datasets(3)))
    assert len(list(portal.dataset_iter())) == 3
    assert split_call(api.calls[0])[2] == {"limit": ["1000"], "offset": ["0"]}


def test_iter_clamps_page_size(api, portal):
    api.expect("GET", "/harvesters/", body=p.page([p.HARVESTER]))
    assert [h.uid for h in portal.harvester_iter(page_size=5000)] == ["hrv_ods"]
    assert split_call(api.calls[0])[2]["limit"] == ["1000"]


def test_iter_stops_on_an_empty_page_even_if_total_lies(api, portal):
    api.expect("GET", "/datasets/", body=p.page(_datasets(2), total=10, next_url="https://x/next"))
    api.expect("GET", "/datasets/", body=p.page([], total=10, next_url="https://x/next"))
    assert len(list(portal.dataset_iter(page_size=2))) == 2
    assert len(api.calls) == 2


def test_iter_is_lazy(api, portal):
    api.expect("GET", "/datasets/", body=p.page(_datasets(2), total=4))
    iterator = portal.dataset_iter(page_size=2)
    assert next(iterator).uid == "da_0"
    assert len(api.calls) == 1


def test_user_iter_keeps_filters_on_every_page(api, portal):
    api.expect("GET", "/users/", body=p.page([p.USER], total=2, next_url="https://x/next"))
    api.expect("GET", "/users/", body=p.page([p.USER_2], total=2))
    names = [u.username for u in portal.user_iter(search="a", permissions=["edit_dataset"], page_size=1)]
    assert names == ["louise.data", "marc"]
    assert [split_call(c)[2] for c in api.calls] == [
        {"search": ["a"], "permissions": ["edit_dataset"], "limit": ["1"], "offset": ["0"]},
        {"search": ["a"], "permissions": ["edit_dataset"], "limit": ["1"], "offset": ["1"]},
    ]


def test_user_emails_walks_every_page_and_reads_only_the_addresses(api, portal):
    api.expect("GET", "/users/", body=p.page([{**p.USER, "email": " Louise@Example.ORG "}], total=2,
                                             next_url="https://x/next"))
    api.expect("GET", "/users/", body=p.page([p.USER_2], total=2))
    assert list(portal.user_emails(page_size=1)) == ["louise@example.org", p.USER_2["email"].strip().lower()]
    assert [split_call(c)[2] for c in api.calls] == [{"limit": ["1"], "offset": ["0"]},
                                                     {"limit": ["1"], "offset": ["1"]}]


def test_group_iter(api, portal):
    api.expect("GET", "/groups/", body=p.page([p.GROUP]))
    assert [g.uid for g in portal.group_iter(sort="user_count")] == ["content_designers"]
    assert split_call(api.calls[0])[2]["sort"] == ["user_count"]


def test_studio_and_code_page_iter(api, portal):
    api.expect("GET", "/studio_pages/", body=p.page([p.STUDIO_PAGE]))
    api.expect("GET", "/code_editor_pages/", body=p.page([p.CODE_PAGE]))
    assert [x.uid for x in portal.studio_page_iter()] == ["sp_abc"]
    assert [x.slug for x in portal.code_page_iter()] == ["hello"]


def test_page_object(api, portal):
    api.expect("GET", "/datasets/", body=p.page(_datasets(2), total=7, next_url="https://x/?offset=2"))
    page = portal.dataset_list(limit=2)
    assert page.has_next and page.total_count == 7 and len(page) == 2
    assert [d.uid for d in page] == ["da_0", "da_1"]


@pytest.mark.parametrize("kwargs", [{"limit": 1001}, {"limit": -1}, {"offset": -5}])
def test_out_of_range_paging_is_refused_locally(portal, kwargs):
    with pytest.raises(ValueError):
        portal.dataset_list(**kwargs)


def test_bulk_delete_needs_exactly_one_selector(portal):
    with pytest.raises(ValueError):
        portal.code_page_bulk_delete()
    with pytest.raises(ValueError):
        portal.code_page_bulk_delete(slugs=["a"], search="b")


def test_harvester_delete_needs_an_explicit_bool(portal):
    with pytest.raises(TypeError):
        portal.harvester_delete("hrv_ods", delete_attached_datasets="yes")


def test_lists_without_paging_parameters_follow_next_links(portal):
    # The spec gives /processors/ no limit/offset, yet the portal answers pages: follow `next` (not spec-checked:
    # the portal's own next links carry paging parameters the spec does not list).
    import responses

    from tests.client.conftest import API

    procs = [{**p.PROCESSOR, "uid": f"pr_{i}"} for i in range(3)]
    with responses.RequestsMock() as mock:
        url = API + "/datasets/da_abc123/processors/"
        mock.add("GET", url, json=p.page(procs[:2], total=3, next_url=url + "?limit=2&offset=2"))
        mock.add("GET", url, json=p.page(procs[2:], total=3))
        page = portal.processor_list("da_abc123")
        assert [x.uid for x in page] == ["pr_0", "pr_1", "pr_2"]
        assert page.total_count == 3 and not page.has_next
        assert split_call(mock.calls[1])[2] == {"limit": ["2"], "offset": ["2"]}


def test_next_links_to_another_host_are_not_followed(portal):
    import responses

    from tests.client.conftest import API

    with responses.RequestsMock() as mock:
        mock.add("GET", API + "/groups/g/users/",
                 json=p.page([p.USER], total=2, next_url="https://evil.example.org/api/automation/v1.0/x/"))
        page = portal.group_member_list("g")
        assert [u.username for u in page] == ["louise.data"]
        assert len(mock.calls) == 1


def test_iter_stops_on_next_null_even_if_total_count_is_huge(api, portal):
    # A hostile or buggy portal: total_count says 10 million, the page is short and next is null.
    api.expect("GET", "/datasets/", body=p.page(_datasets(3), total=10_000_000))
    assert len(list(portal.dataset_iter())) == 3
    assert len(api.calls) == 1


def test_iter_stops_on_a_short_page_without_next_key(api, portal):
    body = p.page(_datasets(1), total=50)
    del body["next"]
    api.expect("GET", "/datasets/", body=body)
    assert len(list(portal.dataset_iter(page_size=2))) == 1
    assert len(api.calls) == 1


def test_iter_never_walks_more_pages_than_the_first_total_count_allows(api, portal):
    # Every page claims there is a next one: the walk stops once total_count is reached.
    for _ in range(2):
        api.expect("GET", "/datasets/", body=p.page(_datasets(2), total=4, next_url="https://x/next"))
    assert len(list(portal.dataset_iter(page_size=2))) == 4  # two full pages; total_count reached
    assert len(api.calls) == 2


def test_iter_cap_holds_when_total_count_grows_on_every_page(api, portal):
    # total_count grows on every page and next is never null: ceil(4 / 2) + 1 = 3 pages, then stop.
    for n in range(3):
        api.expect("GET", "/datasets/", body=p.page(_datasets(2), total=4 + 100 * n, next_url="https://x/next"))
    assert len(list(portal.dataset_iter(page_size=2))) == 6
    assert len(api.calls) == 3


def test_last_answer_clock_is_the_portals_date_header(api, portal):
    from datetime import UTC, datetime

    api.expect("GET", "/datasets/", body=p.page([]), headers={"Date": "Mon, 30 Nov 2026 11:55:07 GMT"})
    list(portal.dataset_iter())
    clock = portal.last_answer_clock()
    assert clock.date == datetime(2026, 11, 30, 11, 55, 7, tzinfo=UTC) and clock.round_trip >= 0


def test_apikey_and_datasource_connection_iters_walk_every_page(api, portal):
    keys = [{**p.APIKEY, "uid": f"ak_{i}"} for i in range(3)]
    api.expect("GET", "/apikeys/", body=p.page(keys[0:2], total=3, next_url="https://x/next"))
    api.expect("GET", "/apikeys/", body=p.page(keys[2:3], total=3))
    assert [k.uid for k in portal.apikey_iter(page_size=2)] == ["ak_0", "ak_1", "ak_2"]
    api.expect("GET", "/datasource_connections/", body=p.page([p.DATASOURCE_CONNECTION]))
    found = list(portal.datasource_connection_iter(sort="type"))
    assert [c.uid for c in found] == ["co_abc"] and "echoed-secret-42" not in repr(found[0].raw)
    assert split_call(api.calls[-1])[2] == {"sort": ["type"], "limit": ["1000"], "offset": ["0"]}


def test_a_worker_time_limit_inside_a_request_is_not_a_portal_failure(api, portal):
    import pytest
    import requests

    class SoftTimeLimitExceeded(Exception):  # noqa: N818 - Celery's name, matched by name
        pass

    from urllib3.exceptions import ProtocolError

    # what urllib3 and requests make of an exception raised inside a socket read
    wrapped = requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", SoftTimeLimitExceeded()))
    api.add("GET", "https://data.example.org/api/automation/v1.0/datasets/", body=wrapped)
    with pytest.raises(SoftTimeLimitExceeded):
        portal.dataset_count()
