"""The only local state of the people app: a validated list waiting for confirmation (the preview).

Users and groups live on the portals and are read live. A draft keeps exactly the rows the preview showed,
so confirming sends what was seen; confirming turns it into one job whose items hold the rows.
"""

import uuid

from django.conf import settings
from django.db import models


class DraftKind(models.TextChoices):
    INVITE = "invite", "Invite users"
    BATCH_ADD = "batch_add", "Add users to a group"


class RowsDraft(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=DraftKind.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey("portals.Connection", on_delete=models.CASCADE, related_name="+")
    connections = models.ManyToManyField("portals.Connection", related_name="+")  # where the rows go
    group_uid = models.CharField(max_length=200, blank=True)  # batch add
    source = models.CharField(max_length=20, blank=True)  # emails | csv | usernames
    rows = models.JSONField(default=list)  # valid rows: {"line", "target", "label", "payload", ...}
    rejected = models.JSONField(default=list)  # {"line", "value", "errors": [...]}
    skipped_lines = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} draft {self.pk} ({len(self.rows)} rows)"
