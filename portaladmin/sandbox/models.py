"""Storage of the sandbox portals: one row per portal, datasets and harvesters with status columns,
every other remote object as JSON in `SandboxObject`, and a compact request-log counter table."""

import hashlib

from django.db import models


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SandboxPortal(models.Model):
    name = models.SlugField(max_length=60, unique=True)
    api_key_hash = models.CharField(max_length=64)
    api_key_encrypted = models.TextField(blank=True)  # so `sandbox_seed` can print it again
    key_hint = models.CharField(max_length=8, blank=True)  # last characters, for the settings page
    created_at = models.DateTimeField(auto_now_add=True)
    # Fault injection
    latency_ms = models.PositiveIntegerField(default=0)
    error_rate = models.FloatField(default=0.0)
    throttle_rate = models.FloatField(default=0.0)
    retry_after = models.PositiveIntegerField(default=1)
    seed = models.IntegerField(default=0)
    request_counter = models.BigIntegerField(default=0)
    # Status machine durations (seconds)
    publish_race_seconds = models.FloatField(default=0.3)
    queue_seconds = models.FloatField(default=1.0)
    processing_seconds_min = models.FloatField(default=1.0)
    processing_seconds_max = models.FloatField(default=3.0)
    deleting_seconds = models.FloatField(default=1.0)
    aborting_seconds = models.FloatField(default=0.5)
    harvest_seconds = models.FloatField(default=2.0)
    # Real-world quirks (issue: jobs tell the truth). The portal's clock may be off ours; its `since` may have
    # whole-second precision; answers take a variable time; a write may be applied and its answer lost.
    clock_offset_seconds = models.FloatField(default=0.0)
    whole_second_since = models.BooleanField(default=False)
    latency_jitter_ms = models.PositiveIntegerField(default=0)
    lost_answer_rate = models.FloatField(default=0.0)
    inflated_total_count = models.BooleanField(default=False)  # lists announce 1,000× their real total_count
    # The end of an order's processing moves the dataset's `updated_at` (what the cheap list shows). Off: a portal
    # whose list does not show it (FACTS.md does not say which), so the poller must not depend on it.
    processing_moves_updated_at = models.BooleanField(default=True)

    def __str__(self):
        return self.name

    def check_key(self, key: str) -> bool:
        return bool(key) and hash_key(key) == self.api_key_hash


class SandboxDataset(models.Model):
    portal = models.ForeignKey(SandboxPortal, on_delete=models.CASCADE, related_name="datasets")
    uid = models.CharField(max_length=40)
    dataset_id = models.CharField(max_length=200)
    data = models.JSONField(default=dict)  # is_restricted, metadata, default_security, created_at, updated_at
    # Settled status (what the status endpoint shows when no operation is running)
    status = models.CharField(max_length=30, default="idle")
    previous = models.CharField(max_length=30, blank=True, default="")
    since = models.DateTimeField()
    is_published = models.BooleanField(default=False)
    message = models.TextField(blank=True, default="")
    records_errors = models.JSONField(default=list)
    params = models.JSONField(default=dict)
    # Running operation (publish, unpublish, abort, publish_metadata), computed lazily on read
    op = models.CharField(max_length=20, blank=True)
    op_at = models.DateTimeField(null=True, blank=True)
    op_phases = models.JSONField(default=list)  # [[status, seconds], ...]; "__race__" shows the old status
    op_final = models.JSONField(default=dict)
    # How this dataset's next publish ends: ok, error, limit_reached; and its own processing duration
    fate = models.CharField(max_length=20, default="ok")
    processing_seconds = models.FloatField(null=True, blank=True)
    harvester_uid = models.CharField(max_length=80, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)  # when the last order's processing ended

    class Meta:
        indexes = [models.Index(fields=["portal", "id"]), models.Index(fields=["portal", "dataset_id"])]
        constraints = [models.UniqueConstraint(fields=["portal", "uid"], name="sandbox_dataset_uid")]

    def __str__(self):
        return f"{self.portal_id}:{self.uid}"


class SandboxHarvester(models.Model):
    portal = models.ForeignKey(SandboxPortal, on_delete=models.CASCADE, related_name="harvesters")
    uid = models.CharField(max_length=80)
    data = models.JSONField(default=dict)  # the harvester object minus status/counters
    status = models.CharField(max_length=20, default="new")
    fails = models.BooleanField(default=False)
    remote_count = models.PositiveIntegerField(default=5)
    run_at = models.DateTimeField(null=True, blank=True)
    run_kind = models.CharField(max_length=10, blank=True)  # start / abort
    run_phases = models.JSONField(default=list)
    counters = models.JSONField(default=dict)
    errors = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "uid"], name="sandbox_harvester_uid")]

    def __str__(self):
        return f"{self.portal_id}:{self.uid}"


class SandboxObject(models.Model):
    """Any other object: kind (user, group, member, resource, processor, …), parent uid, key, JSON data."""

    portal = models.ForeignKey(SandboxPortal, on_delete=models.CASCADE, related_name="sandbox_objects")
    kind = models.CharField(max_length=30)
    parent = models.CharField(max_length=200, blank=True, default="")
    key = models.CharField(max_length=200)
    data = models.JSONField(default=dict)
    blob = models.BinaryField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["portal", "kind", "parent", "id"])]
        constraints = [models.UniqueConstraint(fields=["portal", "kind", "parent", "key"], name="sandbox_object_key")]

    def __str__(self):
        return f"{self.kind}:{self.parent}/{self.key}"


class SandboxRequestCount(models.Model):
    portal = models.CharField(max_length=60)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=200)  # the spec's path template
    status = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "method", "path", "status"],
                                               name="sandbox_request_count_key")]

    def __str__(self):
        return f"{self.portal} {self.method} {self.path} {self.status}: {self.count}"
