"""The drift board of a pair of connections, from the local catalogues (no portal call)."""

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
