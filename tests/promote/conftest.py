"""Two sandbox portals over real HTTP: `stage` (the source, 8 users) and `prod` (the target, 3 users: the last
five of stage's users do not exist there), and a source dataset that differs from nothing yet."""

import io

import pytest

from portaladmin.portals.client import client_for

STAGE_KEY = "promote-stage-key-0123456789"
PROD_KEY = "promote-prod-key-0123456789"
FILE_BYTES = b"year;region;population\n2024;North;1200\n2025;South;1300\n"


@pytest.fixture(autouse=True)
def _close_pooled_clients():
    """Close the pooled clients' keep-alive sockets before the live server stops (else its threads complain)."""
    from portaladmin.portals.client import clear_client_cache

    clear_client_cache()
    yield
    clear_client_cache()


@pytest.fixture
def stage(sandbox_connection):
    return sandbox_connection("stage", slug="stage", name="Stage", api_key=STAGE_KEY, datasets=2, users=8, groups=3,
                              harvesters=0, pages=2)


@pytest.fixture
def prod(sandbox_connection):
    return sandbox_connection("prod", slug="prod", name="Prod", api_key=PROD_KEY, datasets=2, users=3, groups=3,
                              harvesters=0, pages=2)


@pytest.fixture
def source_uid(stage):
    """Stage's first dataset, given something in every part: an uploaded file, a second processor, a field
    configuration, a schedule, user and group rulesets (by name), restricted."""
    c = client_for(stage)
    ds = next(d for d in c.dataset_iter() if d.dataset_id == "stage-00001")
    uploaded = c.resource_upload_file(ds.uid, io.BytesIO(FILE_BYTES), filename="population.csv")
    c.resource_create(ds.uid, {"type": "csvfile", "title": "Population", "params": {"separator": ";"},
                               "datasource": {"type": "uploaded_file", "file": {"uid": uploaded.uid}}})
    c.processor_create(ds.uid, {"type": "concat", "label": "Full name", "fields": ["a", "b"], "separator": " ",
                                "output_field": "full_name"})
    c.field_config_create(ds.uid, {"type": "rename", "label": "Rename", "from_name": "pop", "to_name": "population",
                                   "field_label": "Population"})
    c.dataset_schedule_create(ds.uid, cron_schedule="30 2 * * 1")
    c.metadata_update(ds.uid, "default", "keyword", value=["roads", "promote"])
    c.dataset_user_ruleset_create(ds.uid, username="admin", permissions=["edit_dataset"])
    c.dataset_group_ruleset_create(ds.uid, group_uid="analysts", permissions=["explore_restricted_dataset"])
    dataset = c.dataset_get(ds.uid)
    c.dataset_update(ds.uid, {"dataset_id": dataset.dataset_id, "is_restricted": True,
                              "default_security": dataset.default_security})
    return ds.uid


def portal_writes(name: str) -> int:
    from portaladmin.sandbox.services import request_counts

    return sum(request_counts(name, method=m) for m in ("POST", "PUT", "DELETE"))
