"""Reads for the Team page."""

from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone


def lockouts_by_username() -> dict[str, dict]:
    """User name → failed attempts recorded by django-axes and whether they currently lock the name out."""
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt

    threshold = timezone.now() - get_cool_off()  # attempts older than this no longer count
    rows = (AccessAttempt.objects.filter(attempt_time__gte=threshold).values("username")
            .annotate(failures=Sum("failures_since_start"), most=Max("failures_since_start")))
    return {row["username"]: {"failures": row["failures"], "locked": row["most"] >= settings.AXES_FAILURE_LIMIT}
            for row in rows if row["username"]}
