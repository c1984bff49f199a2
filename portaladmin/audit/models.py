from django.conf import settings
from django.db import models


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"


class AuditEvent(models.Model):
    """Append-only record of who did what. Never updated, never deleted by the application."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)  # kept if the user is deleted
    # Indexed by (connection, -created_at) below, which serves the key's lookups too (one index less per event).
    connection = models.ForeignKey("portals.Connection", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="audit_events", db_index=False)
    connection_name = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=80, db_index=True)  # e.g. "dataset.publish", "auth.login_failed"
    target = models.CharField(max_length=255, blank=True)  # e.g. a dataset uid or a username
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    error = models.CharField(max_length=1000, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    job_id = models.BigIntegerField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["connection", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target} {self.outcome}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")
