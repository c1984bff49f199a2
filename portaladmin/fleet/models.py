"""A small local snapshot of every connection's harvesters, for the fleet boards.

Choice (issue 10): harvesters are not part of the catalogue snapshot, and the overview refreshes every 15 s
for every person looking at it. Fetching N portals' harvesters on each refresh would multiply remote calls by
viewers × portals and make the home page as slow as the slowest portal. So a Celery task (beat, every
FLEET_HARVESTER_REFRESH_MINUTES, plus a "Refresh now" button) copies each connection's harvesters here, and the
overview, the harvester health board and the watchdog read these rows only. Each refresh records its outcome
per connection (HarvesterRefresh), so a portal that cannot be reached shows its error and the age of its data.
Rows are written only by portaladmin.fleet.services.
"""

from django.db import models
from django.utils import timezone

HARVESTER_BUSY = ("queued", "processing", "aborting", "deleting")
HARVESTER_IDLE = ("new", "idle")


class HarvesterSnapshot(models.Model):
    connection = models.ForeignKey("portals.Connection", on_delete=models.CASCADE,
                                   related_name="harvester_snapshots")
    uid = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    type = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=30, blank=True)
    status_seen_at = models.DateTimeField(null=True, blank=True)  # first refresh that saw the current status
    has_error = models.BooleanField(default=False)
    resource_errors_count = models.PositiveIntegerField(default=0)
    remote_datasets_count = models.PositiveIntegerField(default=0)
    harvested_datasets_count = models.PositiveIntegerField(default=0)
    published_datasets_count = models.PositiveIntegerField(default=0)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    error_message = models.CharField(max_length=1000, blank=True)  # the harvester-level error (redacted)
    resource_errors = models.JSONField(default=dict, blank=True)  # {remote_id: message}, at most 200
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["connection_id", "name", "uid"]
        constraints = [models.UniqueConstraint(fields=["connection", "uid"], name="fleet_harvester_conn_uid")]
        indexes = [models.Index(fields=["status"], name="fleet_harvester_status")]

    def __str__(self) -> str:
        return f"{self.name or self.uid} ({self.status})"

    @property
    def is_busy(self) -> bool:
        return bool(self.status) and self.status not in HARVESTER_IDLE

    @property
    def has_problem(self) -> bool:
        return self.has_error or self.resource_errors_count > 0

    @property
    def health(self) -> str:
        if self.is_busy:
            return "running"
        if self.status == "new" or not self.last_started_at:
            return "never"
        return "errors" if self.has_problem else "ok"

    @property
    def busy_since(self):
        return self.last_started_at or self.status_seen_at


class HarvesterRefresh(models.Model):
    """The last harvester refresh of one connection: when it ran, whether it worked, why not."""

    connection = models.OneToOneField("portals.Connection", on_delete=models.CASCADE,
                                      related_name="harvester_refresh")
    requested_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    ok_at = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=1000, blank=True)  # redacted; empty after a successful run

    def __str__(self) -> str:
        return f"HarvesterRefresh {self.connection_id} ok_at={self.ok_at} error={bool(self.error)}"

    @property
    def is_pending(self) -> bool:
        return bool(self.requested_at) and (self.attempted_at is None or self.requested_at > self.attempted_at)


class SnapshotCount(models.Model):
    """The overview's dataset figures per connection, kept as they change instead of recounted per request.

    Database triggers on the catalogue snapshot table (migration 0002: statement-level on PostgreSQL, row-level on
    SQLite) append one row of differences for every write of the snapshot, in the same transaction as the write,
    whoever writes (sync, status scan, job receivers, bulk updates). A connection's figures are the SUM of its rows
    (an index range, a handful of rows once compacted: `services.snapshot_counts_compact`, beat). Append-only, so
    concurrent writers never wait on one counter row. `connection_id` is a plain column, not a foreign key: the
    rows a connection's deletion leaves are dropped by the compaction.
    """

    connection_id = models.IntegerField()
    total = models.IntegerField(default=0)
    published = models.IntegerField(default=0)
    unpublished = models.IntegerField(default=0)
    error = models.IntegerField(default=0)
    busy = models.IntegerField(default=0)
    limit_reached = models.IntegerField(default=0)
    unknown = models.IntegerField(default=0)
    checked = models.IntegerField(default=0)  # rows whose status was read at least once
    synced_at = models.DateTimeField(null=True, blank=True)  # the latest synced_at written (MAX over the rows)

    class Meta:
        indexes = [models.Index(fields=["connection_id"], name="fleet_snapcount_conn")]

    def __str__(self) -> str:
        return f"SnapshotCount {self.pk} of connection {self.connection_id}: {self.total:+d} datasets"
