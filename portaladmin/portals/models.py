from django.conf import settings
from django.db import models
from django.urls import reverse

from portaladmin.core import crypto


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    ADMIN = "admin", "Admin"


ROLE_RANK = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.ADMIN: 3}


class Health(models.TextChoices):
    UNKNOWN = "unknown", "Not tested"
    OK = "ok", "Reachable"
    AUTH_FAILED = "auth_failed", "Key refused"
    KEY_REVOKED = "key_revoked", "Key revoked"
    UNREACHABLE = "unreachable", "Unreachable"
    ERROR = "error", "Error"


class Connection(models.Model):
    """A connection profile: one Opendatasoft portal and the API key used to manage it."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    # Portal root, e.g. https://data.example.org (the client appends /api/automation/v1.0/).
    base_url = models.CharField(max_length=255)
    api_key_encrypted = models.TextField()
    api_key_last4 = models.CharField(max_length=4, blank=True)
    api_key_fingerprint = models.CharField(max_length=12, blank=True)
    connect_timeout = models.FloatField(null=True, blank=True, help_text="Seconds; empty uses the default.")
    read_timeout = models.FloatField(null=True, blank=True, help_text="Seconds; empty uses the default.")
    request_budget = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests per poller tick (2 s) for status reads and the sends of publishes and "
                                         "harvester runs; empty uses the default (20)."
    )
    # The background status scan (datasets.services.scan) takes at most this many requests per poller tick,
    # and only what the job poller leaves of request_budget; re-checks every dataset at least every N hours.
    status_scan_budget = models.PositiveIntegerField(
        null=True, blank=True, help_text="Status-scan requests per poller tick (only what jobs leave of the "
                                         "request budget); 0 turns the scan off; empty uses the default."
    )
    status_scan_hours = models.FloatField(
        null=True, blank=True, help_text="Re-check every dataset's status at least every N hours; empty uses the "
                                         "default."
    )
    notes = models.TextField(blank=True, max_length=2000)
    # A 429 pauses every process's calls to this portal until then (shared through the database).
    paused_until = models.DateTimeField(null=True, blank=True)

    health = models.CharField(max_length=20, choices=Health.choices, default=Health.UNKNOWN)
    health_message = models.CharField(max_length=500, blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_dataset_count = models.PositiveIntegerField(null=True, blank=True)

    # What the portal says about the stored key itself (read on "Test connection" through /apikeys/search_key/).
    # key_permissions None = not known (never read, or the key may not read keys: key_info_message says why).
    key_uid = models.CharField(max_length=64, blank=True)
    key_label = models.CharField(max_length=200, blank=True)
    key_owner = models.CharField(max_length=150, blank=True)
    key_created_at = models.DateTimeField(null=True, blank=True)
    key_permissions = models.JSONField(null=True, blank=True)
    key_revoked_at = models.DateTimeField(null=True, blank=True)
    key_revoked = models.BooleanField(default=False)
    key_info_message = models.CharField(max_length=500, blank=True)
    key_checked_at = models.DateTimeField(null=True, blank=True)
    # When the key was stored here, and by whom ("Replace key" and "Create a key for this connection").
    key_stored_at = models.DateTimeField(null=True, blank=True)
    key_stored_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:  # never the key
        return f"<Connection {self.slug} {self.base_url}>"

    def get_absolute_url(self) -> str:
        return reverse("portals:detail", kwargs={"conn": self.slug})

    @property
    def api_base(self) -> str:
        return self.base_url.rstrip("/") + "/api/automation/v1.0"

    @property
    def api_key(self) -> str:
        """Decrypted key; raises crypto.KeyDecryptionError rather than ever returning ciphertext."""
        return crypto.decrypt_secret(self.api_key_encrypted)

    def set_api_key(self, key: str) -> None:
        self.api_key_encrypted = crypto.encrypt_secret(key)
        self.api_key_last4 = key[-4:] if len(key) >= 8 else ""
        self.api_key_fingerprint = crypto.fingerprint(key)
        # What we knew about the previous key says nothing about this one.
        self.key_uid = self.key_label = self.key_owner = self.key_info_message = ""
        self.key_created_at = self.key_revoked_at = self.key_checked_at = self.key_permissions = None
        self.key_revoked = False

    @property
    def key_age_days(self) -> int | None:
        """Age of the key: from the portal's creation date, else from when it was stored here."""
        from django.utils import timezone

        born = self.key_created_at or self.key_stored_at
        return (timezone.now() - born).days if born else None

    @property
    def key_too_old(self) -> bool:
        age = self.key_age_days
        return age is not None and age > settings.PORTALS_KEY_MAX_AGE_DAYS

    def key_lacks(self, permission: str) -> str:
        """Why the stored key cannot do `permission` ("" when it can, or when its permissions are not known).
        A key with edit_domain may do everything (as the sandbox; GUESS for real portals)."""
        if self.key_revoked:
            return "The connection's API key is revoked: replace it."
        perms = self.key_permissions
        if perms is None or permission in perms or "edit_domain" in perms:
            return ""
        return f"The connection's API key lacks the {permission} permission."

    @property
    def api_key_mask(self) -> str:
        return "••••" + self.api_key_last4 if self.api_key_last4 else "••••"

    @property
    def timeouts(self) -> tuple[float, float]:
        return (self.connect_timeout or settings.PORTALS_CONNECT_TIMEOUT,
                self.read_timeout or settings.PORTALS_READ_TIMEOUT)


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "connection"], name="one_role_per_connection")]
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} on {self.connection}"
