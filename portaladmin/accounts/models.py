from django.conf import settings
from django.db import models


class ExternalIdentity(models.Model):
    """A person known to an OpenID provider: (issuer, subject) → local user.

    Sign-ins are matched on the provider's stable subject, never on the e-mail address, so an identity provider
    account that merely claims someone's address cannot take over their local account."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="external_identity_unique")]

    def __str__(self) -> str:
        return f"{self.issuer} {self.subject}"


class Preferences(models.Model):
    """What a person chose for themselves: the time zone their pages show times in (UTC until they choose)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    time_zone = models.CharField(max_length=64, default="UTC")

    def __str__(self) -> str:
        return f"{self.user_id} {self.time_zone}"
