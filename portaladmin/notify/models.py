"""Notification rules, the events they match and one delivery per (rule, event).

An Event is something that happened once (a job ended, a connection went down); its `dedup_key` is unique, so
the same happening recorded twice is one event. A Delivery is unique per (rule, event): one event produces at
most one message per rule, whatever retries or duplicate signals occur. Digests send many deliveries in one
message and mark them all sent.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from portaladmin.core import crypto


class EventKind(models.TextChoices):
    JOB_FAILED = "job.failed", "Job failed"
    JOB_PARTIALLY_FAILED = "job.partially_failed", "Job partially failed"
    JOB_SUCCEEDED = "job.succeeded", "Job succeeded"
    JOB_STUCK = "job.stuck", "Job stuck past its deadline (watchdog)"
    CONNECTION_UNREACHABLE = "connection.unreachable", "Connection unreachable"
    CONNECTION_KEY_REFUSED = "connection.key_refused", "Connection key refused or revoked"
    CONNECTION_RECOVERED = "connection.recovered", "Connection recovered"
    DATASET_ERROR = "dataset.error", "Dataset in error or at its record limit (status scan)"
    DATASET_LATE = "dataset.late", "Dataset late against its expected update frequency"
    HARVESTER_ERRORS = "harvester.errors", "Harvester run with errors"
    TEST = "test", "Test event"


RULE_EVENT_CHOICES = [c for c in EventKind.choices if c[0] != EventKind.TEST]


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class Schedule(models.TextChoices):
    IMMEDIATE = "immediate", "Immediately"
    DIGEST = "digest", "Daily digest"


class Scope(models.TextChoices):
    PERSONAL = "personal", "For me"
    CONNECTION = "connection", "For the people of some connections (their admin)"
    TEAM = "team", "For the whole team (superuser)"


class Audience(models.TextChoices):
    ROLES = "roles", "Everyone with a role on the event's connection"
    ADDRESSES = "addresses", "These e-mail addresses"


class Rule(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_rules")
    name = models.CharField(max_length=100)
    events = models.JSONField(default=list)  # EventKind values
    # Empty = every connection the owner can see (now and later).
    connections = models.ManyToManyField("portals.Connection", blank=True, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    email = models.EmailField(blank=True)  # empty = the owner's address
    # An admin's rule for connections or the team: e-mailed to everyone with a role on the event's connections,
    # or to a list of addresses (each must be a person with a role there: checked again at sending time).
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.PERSONAL)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.ROLES)
    addresses = models.TextField(blank=True)  # one e-mail address a line (audience = addresses)
    webhook_url = models.CharField(max_length=500, blank=True)
    webhook_secret_encrypted = models.TextField(blank=True)
    slack_text = models.BooleanField(default=False)  # add a Slack/Teams-compatible `text` field
    schedule = models.CharField(max_length=10, choices=Schedule.choices, default=Schedule.IMMEDIATE)
    digest_hour = models.PositiveSmallIntegerField(default=8)  # local hour in `timezone`
    timezone = models.CharField(max_length=64, default="UTC")
    active = models.BooleanField(default=True)
    failing_since = models.DateTimeField(null=True, blank=True)  # last delivery gave up
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("notify:detail", kwargs={"rule_id": self.pk})

    @property
    def webhook_secret(self) -> str:
        return crypto.decrypt_secret(self.webhook_secret_encrypted) if self.webhook_secret_encrypted else ""

    @property
    def recipient(self) -> str:
        return self.email or self.owner.email

    @property
    def address_list(self) -> list[str]:
        return [a.strip().lower() for a in self.addresses.replace(",", "\n").splitlines() if a.strip()]

    @property
    def shared(self) -> bool:
        return self.scope != Scope.PERSONAL

    def event_labels(self) -> list[str]:
        labels = dict(EventKind.choices)
        return [labels.get(e, e) for e in self.events]


class Event(models.Model):
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    dedup_key = models.CharField(max_length=200, unique=True)
    # The connections it is about: a person hears of it only with a role on every one of them.
    connections = models.ManyToManyField("portals.Connection", related_name="+")
    subject = models.CharField(max_length=300)  # the real outcome, e.g. "Publish 20 datasets on Lyon: 4 failed…"
    text = models.TextField(blank=True)  # first line = subject; then details
    link = models.CharField(max_length=500, blank=True)  # path of the page, e.g. /jobs/12/
    data = models.JSONField(default=dict)  # the webhook's `object`, `outcome`, `counts`
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class DatasetChange(models.Model):
    """A dataset the status scan saw enter error / limit_reached (or that became late: status "late", since =
    its late_at), waiting to be told in one grouped event.

    `dedup_key` (connection, uid, status, since) makes one transition one row however often it is recorded;
    the scan's rows are gathered per connection into one event when the pass ends (or after
    NOTIFY_DATASET_HOLD_SECONDS), so a storm of datasets entering error is one message per rule, not hundreds.
    """

    connection = models.ForeignKey("portals.Connection", on_delete=models.CASCADE, related_name="+")
    dedup_key = models.CharField(max_length=200, unique=True)
    uid = models.CharField(max_length=64)
    dataset_id = models.CharField(max_length=255)
    title = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=30)
    previous = models.CharField(max_length=30, blank=True)
    since = models.DateTimeField(null=True, blank=True)
    message = models.CharField(max_length=1000, blank=True)
    seen_at = models.DateTimeField()
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["seen_at", "id"]
        indexes = [models.Index(fields=["event", "connection"], name="notify_dschange_pending")]

    def __str__(self) -> str:
        return f"{self.dataset_id}: {self.previous} → {self.status}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # immediate: due at next_attempt_at
    QUEUED = "queued", "In the next digest"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # gave up after the last attempt
    SKIPPED = "skipped", "Skipped"  # the owner lost access, or the rule was switched off


class Delivery(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    digest_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "event"], name="notify_one_delivery_per_rule_event")]

    def __str__(self) -> str:
        return f"Delivery {self.pk} of rule {self.rule_id}: {self.status}"
