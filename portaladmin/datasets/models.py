"""The catalogue snapshot (DESIGN.md decision 4): a local copy of each connection's datasets.

The Automation API lists datasets only page by page with no search and no status filter, so lists, search,
filters, status boards and cross-portal views read these rows, never the portal. Rows are written only by
portaladmin.datasets.services (sync, refresh after a write, job poller hook); everyone else reads them
through portaladmin.datasets.selectors.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone


class SnapshotStatus(models.TextChoices):
    """The portal's processing states (FACTS.md) plus "unknown" (the list answer carries no status)."""

    UNKNOWN = "unknown", "Not checked yet"  # never read: the list answer carries no status
    IDLE = "idle", "Idle"
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    ABORTING = "aborting_processing", "Aborting"
    DELETING = "deleting", "Deleting"
    SAVING_VERSION = "saving_version", "Saving version"
    ERROR = "error", "Error"
    LIMIT_REACHED = "limit_reached", "Limit reached"


BUSY_STATUSES = ("queued", "processing", "aborting_processing", "deleting", "saving_version")


class DatasetSnapshot(models.Model):
    connection = models.ForeignKey("portals.Connection", on_delete=models.CASCADE, related_name="dataset_snapshots")
    uid = models.CharField(max_length=64)  # da_…, never changes
    dataset_id = models.CharField(max_length=255)
    title = models.CharField(max_length=500, blank=True)
    description = models.CharField(max_length=500, blank=True)  # plain-text excerpt
    keywords = models.JSONField(default=list, blank=True)
    publisher = models.CharField(max_length=255, blank=True)
    license = models.CharField(max_length=255, blank=True)
    language = models.CharField(max_length=20, blank=True)
    theme = models.CharField(max_length=255, blank=True)  # themes joined with ", "
    is_restricted = models.BooleanField(default=False)
    is_published = models.BooleanField(null=True)  # None: the portal did not say
    status = models.CharField(max_length=30, default=SnapshotStatus.UNKNOWN)
    status_since = models.DateTimeField(null=True, blank=True)
    status_message = models.CharField(max_length=1000, blank=True)
    status_checked_at = models.DateTimeField(null=True, blank=True)  # when status was last read from the portal
    # The status scan reserves a row until then (a batch in flight, or a 429 pause): a worker that dies leaves
    # the row due again after it (the scan's progress is the rows' status_checked_at, in the database).
    status_scan_until = models.DateTimeField(null=True, blank=True)
    modified = models.DateTimeField(null=True, blank=True)  # metadata default.modified
    created_at = models.DateTimeField(null=True, blank=True)  # remote
    updated_at = models.DateTimeField(null=True, blank=True)  # remote: configuration last edited
    synced_at = models.DateTimeField(default=timezone.now)  # last time this row was written from the portal
    # Where the portal's dataset list showed it at the last catalogue sync (0-based; the list has no sort or
    # search): the jobs' list hints read the 1,000 around it (`?offset=`), not only the first 1,000 of the portal.
    list_position = models.PositiveIntegerField(null=True, blank=True)
    # Freshness (portaladmin.datasets.freshness): the expected update period from the metadata (each sync) and from
    # the schedules (when portaladmin reads or writes them); late_at = modified + period × LATE_FACTOR, the schedule's
    # period first. Stored, not computed per query: "late" is an indexed `late_at < now` on every board.
    metadata_period = models.DurationField(null=True, blank=True)
    schedule_period = models.DurationField(null=True, blank=True)
    late_at = models.DateTimeField(null=True, blank=True)
    # Lower-cased "dataset_id title keywords": search is a plain LIKE '%q%' on one column.
    search = models.CharField(max_length=1000, blank=True, default="")

    class Meta:
        ordering = ["dataset_id"]
        constraints = [models.UniqueConstraint(fields=["connection", "uid"], name="snapshot_conn_uid")]
        indexes = [
            models.Index(fields=["connection", "dataset_id"], name="snapshot_conn_dsid"),
            models.Index(fields=["connection", "title"], name="snapshot_conn_title"),
            models.Index(fields=["connection", "updated_at"], name="snapshot_conn_updated"),
            models.Index(fields=["connection", "status", "dataset_id"], name="snapshot_conn_status"),
            models.Index(fields=["connection", "is_published", "dataset_id"], name="snapshot_conn_published"),
            models.Index(fields=["connection", "is_restricted", "dataset_id"], name="snapshot_conn_restricted"),
            models.Index(fields=["status"], name="snapshot_status"),  # cross-portal status boards
            models.Index(fields=["connection", "status_checked_at"], name="snapshot_conn_checked"),  # the scan
            models.Index(fields=["connection", "late_at"], name="snapshot_conn_late"),
            models.Index(fields=["late_at"], name="snapshot_late"),  # the cross-portal board's "late" filter
            # Covering index for searches: LIKE '%word%' scans this narrow index instead of the table.
            models.Index(fields=["connection", "search"], name="snapshot_conn_search"),
            # The cross-portal board (fleet, issue 23) sorts across connections: (sort key, id) indexes let it read a
            # page, or seek past a cursor, in order and stop after 51 rows instead of sorting every visible row.
            models.Index(fields=["dataset_id", "id"], name="snapshot_dsid_id"),
            models.Index(fields=["title", "id"], name="snapshot_title_id"),
            models.Index(fields=["updated_at", "id"], name="snapshot_updated_id"),
            models.Index(fields=["status", "dataset_id", "id"], name="snapshot_status_dsid_id"),
            models.Index(fields=["-status", "dataset_id", "id"], name="snapshot_status_desc_dsid_id"),
            # The overview's watchdog (polled every 15 s): busy rows by when they became busy (status_since, else
            # the last status read), partial on the busy statuses, so "busy for too long" is an index range and
            # not a recheck of every busy row (8,000 at 10 × 20,000: 22 ms → 0.1 ms).
            models.Index(models.F("connection"), Coalesce("status_since", "status_checked_at"),
                         name="snapshot_conn_busy_since", condition=models.Q(status__in=BUSY_STATUSES)),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id} ({self.uid})"

    @property
    def is_busy(self) -> bool:
        return self.status in BUSY_STATUSES

    @property
    def status_known(self) -> bool:
        return self.status != SnapshotStatus.UNKNOWN

    @property
    def update_period(self):
        return self.schedule_period or self.metadata_period

    @property
    def is_late(self) -> bool:
        return self.late_at is not None and self.late_at < timezone.now()

    @property
    def publication(self) -> str:
        """published / unpublished / unknown, for a badge."""
        if self.is_published is None:
            return "unknown"
        return "published" if self.is_published else "unpublished"

    def portal_url(self) -> str:
        return f"{self.connection.base_url.rstrip('/')}/explore/dataset/{self.dataset_id}/"


class CatalogueSync(models.Model):
    """One run of the catalogue sync of a connection."""

    class Trigger(models.TextChoices):
        PERIODIC = "periodic", "Periodic"
        MANUAL = "manual", "Refresh button"
        WRITE = "write", "After a write"

    connection = models.ForeignKey("portals.Connection", on_delete=models.CASCADE, related_name="catalogue_syncs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.PERIODIC)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField(default=0)  # datasets seen on the portal
    created = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)  # list requests made
    error = models.CharField(max_length=1000, blank=True)  # redacted

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["connection", "-requested_at"], name="catsync_conn_requested")]

    def __str__(self) -> str:
        return f"CatalogueSync {self.pk} {self.connection_id} {self.state}"

    @property
    def state(self) -> str:
        if self.finished_at is None:
            return "running" if self.started_at else "pending"
        return "failed" if self.error else "succeeded"

    @property
    def ok(self) -> bool:
        return self.finished_at is not None and not self.error

    @property
    def is_active(self) -> bool:
        return self.finished_at is None


class StatusScan(models.Model):
    """The status scan's state for one connection (its progress is the rows' status_checked_at).

    `requested_at`: a "check now" — every row checked before it is due again. `tick_at`: the last tick that
    granted requests (one grant per poller tick, whoever asks: beat or `status_scan --wait`). `resume_at`: after a
    5xx the scan waits until then. `stopped_at`/`error`: the key was refused; the scan stays stopped until the
    next request (button, command, or a changed key).
    """

    connection = models.OneToOneField("portals.Connection", on_delete=models.CASCADE, related_name="status_scan")
    requested_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    tick_at = models.DateTimeField(null=True, blank=True)
    resume_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=1000, blank=True)  # redacted
    requests = models.PositiveBigIntegerField(default=0)  # status reads made by the scan, ever
    last_request_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"StatusScan {self.connection_id}"


class FeedbackCount(models.Model):
    """How many open (not archived) visitor feedbacks a dataset had when last counted.

    The API has no feedback list across datasets: counting costs one request per dataset (`limit=0`), done by
    the `datasets.feedback_count_scan` task (a button on the connection's feedback page) and refreshed each time
    someone opens a dataset's feedback. The overview sums these rows; `checked_at` says how old they are."""

    connection = models.ForeignKey("portals.Connection", on_delete=models.CASCADE, related_name="feedback_counts")
    uid = models.CharField(max_length=64)
    dataset_id = models.CharField(max_length=255, blank=True)
    open_count = models.PositiveIntegerField(default=0)
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "uid"], name="feedback_count_unique")]

    def __str__(self):
        return f"{self.dataset_id or self.uid}: {self.open_count} open"
