"""Jobs and their items: the database is the truth about long work, the broker only a doorbell.

A Job is what a person watches (one progress bar), possibly across several connections.
Each JobItem is one unit of remote work (a dataset, an e-mail, a harvester) on one connection.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    WAITING = "waiting", "Waiting for the portal"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    PARTIALLY_FAILED = "partially_failed", "Partially failed"
    CANCELLED = "cancelled", "Cancelled"


JOB_ACTIVE = (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.WAITING)


class ItemStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # not sent yet (or to be retried at next_poll_at)
    RUNNING = "running", "Running"  # claimed by a worker, action in flight
    WAITING = "waiting", "Waiting for the portal"  # action sent, the poller watches the remote state
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ITEM_ACTIVE = (ItemStatus.PENDING, ItemStatus.RUNNING, ItemStatus.WAITING)
ITEM_DONE = (ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.CANCELLED)


class Job(models.Model):
    kind = models.CharField(max_length=50, db_index=True)  # a key of the kind registry, e.g. "dataset.publish"
    title = models.CharField(max_length=200, blank=True)
    # Set when every item is on one connection; multi-connection jobs list theirs in `connections`.
    connection = models.ForeignKey("portals.Connection", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="jobs")
    connections = models.ManyToManyField("portals.Connection", related_name="+", blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="jobs")
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    params = models.JSONField(default=dict, blank=True)  # never secrets
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")

    total = models.PositiveIntegerField(default=0)
    pending_count = models.PositiveIntegerField(default=0)
    running_count = models.PositiveIntegerField(default=0)  # running + waiting
    succeeded_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    cancelled_count = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    stuck_at = models.DateTimeField(null=True, blank=True)  # set by the sweeper past the deadline
    notified_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=1000, blank=True)  # redacted
    # The form's one-time token (static/js/app.js): a second submit of the same form gets this job back.
    submit_token = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "deadline"], name="job_status_deadline"),
            models.Index(fields=["started_by", "-created_at"], name="job_owner_created"),
        ]
        constraints = [  # two submits of one form, even at the same instant, start one job
            # nosec: bandit 1.9 reads submit_token="" as a password argument; it is a form's one-time token
            models.UniqueConstraint(fields=["started_by", "submit_token"],
                                    condition=~models.Q(submit_token=""),  # nosec B106
                                    name="job_one_per_submit_token"),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk} {self.kind} {self.status}"

    def get_absolute_url(self) -> str:
        return reverse("jobs:detail", kwargs={"job_id": self.pk})

    @property
    def is_active(self) -> bool:
        return self.status in JOB_ACTIVE

    @property
    def done_count(self) -> int:
        return self.succeeded_count + self.failed_count + self.cancelled_count

    @property
    def percent(self) -> int:
        return int(100 * self.done_count / self.total) if self.total else 100


class JobItem(models.Model):
    # No single-column index on either key: (job, status) and (connection, target) below start with them and serve
    # the same lookups; every item UPDATE that changes status rewrites every index entry of the row (issue 23).
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items", db_index=False)
    connection = models.ForeignKey("portals.Connection", on_delete=models.CASCADE, related_name="job_items",
                                   db_index=False)
    target = models.CharField(max_length=255)  # dataset uid, e-mail, harvester uid …
    target_label = models.CharField(max_length=255, blank=True)  # e.g. dataset_id, for people
    payload = models.JSONField(default=dict, blank=True)
    chunk = models.PositiveIntegerField(default=0)  # items of one chunk are claimed and sent together

    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)

    # The remote write. action_sent is committed BEFORE the request leaves; send_confirmed after the answer.
    # action_sent and not send_confirmed = the outcome is unknown (crash in the window): check before re-sending.
    action_sent = models.BooleanField(default=False)
    send_confirmed = models.BooleanField(default=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The portal's own clock when it answered the write (its Date header), the reference for its `since`.
    portal_sent_at = models.DateTimeField(null=True, blank=True)
    transient_since = models.DateTimeField(null=True, blank=True)  # first 429/5xx/timeout of the current streak

    remote_state = models.CharField(max_length=40, blank=True)
    remote_since = models.DateTimeField(null=True, blank=True)  # the portal's own `since`, when given
    state_seen_at = models.DateTimeField(null=True, blank=True)  # when we first saw remote_state
    seen_busy = models.BooleanField(default=False)  # a non-idle state was seen after the send
    poll_count = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)  # waiting: next status read; pending: not before
    # When the portal is expected to finish, learned from this target's own past orders (jobs/schedule.py).
    expected_end = models.DateTimeField(null=True, blank=True)
    # When the cheap list request last suggested the remote state changed (a hint for the read order, not proof).
    hinted_at = models.DateTimeField(null=True, blank=True)
    # The listed updated_at that hint was for (portal clock): the same value never hints again, so an edit of the
    # dataset while its order runs (every write moves updated_at) costs one read, not one per list request.
    hint_listed_at = models.DateTimeField(null=True, blank=True)
    message = models.CharField(max_length=1000, blank=True)
    details = models.JSONField(default=dict, blank=True)  # e.g. records_errors, per-item results

    deadline = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "next_poll_at"], name="jobitem_poll"),
            models.Index(fields=["status", "lease_until"], name="jobitem_lease"),
            models.Index(fields=["job", "status"], name="jobitem_job_status"),
            models.Index(fields=["connection", "target"], name="jobitem_conn_target"),  # a target's history
        ]

    def __str__(self) -> str:
        return f"JobItem {self.pk} {self.target} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in ITEM_ACTIVE

    @property
    def label(self) -> str:
        return self.target_label or self.target
