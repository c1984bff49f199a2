"""The drift board of a pair of connections, or one source and several targets, from the local catalogues."""

import re

import pytest
from django.urls import reverse

from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.portals.models import Membership, Role
from portaladmin.promote.drift import DIFFERS, ONLY_SOURCE, ONLY_TARGET, SAME, drift_rows


def test_drift_rows_match_by_dataset_id_and_name_the_fields_that_differ():
    one = {"a": {"uid": "da_1", "title": "A", "is_published": True}, "b": {"uid": "da_2", "title": "B"},
           "c": {"uid": "da_3", "title": "C"}}
    other = {"a": {"uid": "da_9", "title": "A", "is_published": False}, "b": {"uid": "da_8", "title": "B"},
             "z": {"uid": "da_7", "title": "Z"}}
    rows = {r.dataset_id: r for r in drift_rows(one, other)}
    assert (rows["a"].status, rows["a"].fields, rows["a"].target_uid) == (DIFFERS, ["is_published"], "da_9")
    assert rows["b"].status == SAME and rows["c"].status == ONLY_SOURCE and rows["z"].status == ONLY_TARGET
    assert list(rows) == ["a", "b", "c", "z"]


@pytest.mark.django_db
def test_drift_board_page(client, make_connection, make_user):
    stage, prod = make_connection("stage"), make_connection("prod")
    for conn, rows in ((stage, [("roads", "Roads"), ("rivers", "Rivers"), ("only-stage", "X")]),
                       (prod, [("roads", "Roads (old)"), ("rivers", "Rivers"), ("only-prod", "Y")])):
        for n, (dataset_id, title) in enumerate(rows):
            DatasetSnapshot.objects.create(connection=conn, uid=f"da_{conn.slug}{n}", dataset_id=dataset_id,
                                           title=title)
    user = make_user("vera", role=Role.VIEWER, connection=stage)
    client.force_login(user)
    url = reverse("promote:drift", kwargs={"conn": "stage"})
    assert client.get(url, {"to": "prod"}).status_code == 404  # no role on prod
    Membership.objects.create(user=user, connection=prod, role=Role.VIEWER)
    html = client.get(url, {"to": "prod"}).content.decode()
    assert "1 differ · 1 only on Stage · 1 only on Prod · 1 the same" in html
    assert 'data-status="differs"' in html and "roads" in html and "title" in html
    compare = reverse("promote:compare", kwargs={"conn": "stage", "uid": "da_stage0"})
    assert f'{compare}?to=prod&amp;target=da_prod0' in html
    html = client.get(url, {"to": "prod", "show": "only_target"}).content.decode()
    assert "only-prod" in html and "only-stage" not in html


@pytest.mark.django_db
def test_one_source_and_several_targets_shows_per_dataset_which_targets_differ_or_lack_it(client, make_connection,
                                                                                          make_user):
    stage, prod, north = make_connection("stage"), make_connection("prod"), make_connection("north")
    for conn, rows in ((stage, [("roads", "Roads"), ("rivers", "Rivers"), ("parks", "Parks")]),
                       (prod, [("roads", "Roads (old)"), ("rivers", "Rivers"), ("parks", "Parks")]),
                       (north, [("roads", "Roads"), ("rivers", "Rivers"), ("only-north", "N")])):
        for n, (dataset_id, title) in enumerate(rows):
            DatasetSnapshot.objects.create(connection=conn, uid=f"da_{conn.slug}{n}", dataset_id=dataset_id,
                                           title=title)
    user = make_user("vera", role=Role.VIEWER, connection=stage)
    Membership.objects.create(user=user, connection=prod, role=Role.VIEWER)
    client.force_login(user)
    url = reverse("promote:drift", kwargs={"conn": "stage"})
    assert client.get(url, {"to": ["prod", "north"]}).status_code == 404  # no role on one of the targets
    Membership.objects.create(user=user, connection=north, role=Role.VIEWER)
    html = client.get(url, {"to": ["prod", "north"], "show": "all"}).content.decode()
    assert "1 differ on a target · 1 missing on a target · 1 only on a target · 1 the same everywhere" in html

    def cell(dataset_id, target):
        row = re.search(rf'<tr data-status="\w+" data-dataset="{dataset_id}">(.*?)</tr>', html, re.S).group(1)
        return re.search(rf'<td data-target="{target}" data-status="(\w+)"', row).group(1)

    assert (cell("roads", "prod"), cell("roads", "north")) == ("differs", "same")
    assert (cell("parks", "prod"), cell("parks", "north")) == ("same", "only_source")  # missing on north
    assert (cell("only-north", "prod"), cell("only-north", "north")) == ("none", "only_target")
    assert (cell("rivers", "prod"), cell("rivers", "north")) == ("same", "same")
    compare = reverse("promote:compare", kwargs={"conn": "stage", "uid": "da_stage2"})
    assert f"{compare}?to=north\"" in html  # parks can be compared with (and promoted to) north from its cell
    missing = client.get(url, {"to": ["prod", "north"], "show": "only_source"}).content.decode()
    assert 'data-dataset="parks"' in missing and 'data-dataset="roads"' not in missing
