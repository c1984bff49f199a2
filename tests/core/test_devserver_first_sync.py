"""`make run` on a fresh clone: connections that were never synced get a first catalogue sync at start-up,
instead of empty dataset lists until the periodic sync comes round."""

from unittest import mock

import pytest

from portaladmin.core.management.commands.devserver import sync_unsynced_catalogues
from portaladmin.datasets.models import CatalogueSync


@pytest.mark.django_db
def test_only_never_synced_connections_get_a_first_sync(make_connection, django_capture_on_commit_callbacks):
    fresh = make_connection(slug="fresh")
    synced = make_connection(slug="synced")
    CatalogueSync.objects.create(connection=synced, trigger=CatalogueSync.Trigger.PERIODIC)

    with mock.patch("portaladmin.datasets.tasks.catalogue_sync.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            assert sync_unsynced_catalogues() == 1

    assert [c.kwargs["connection_id"] for c in delay.call_args_list] == [fresh.pk]
    assert CatalogueSync.objects.filter(connection=fresh).count() == 1
    with mock.patch("portaladmin.datasets.tasks.catalogue_sync.delay") as delay:
        assert sync_unsynced_catalogues() == 0  # a restart does not sync again
    delay.assert_not_called()
