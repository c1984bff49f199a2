"""Reads of jobs, always scoped to what the user may see."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from portaladmin.jobs.models import Job, JobItem
from portaladmin.portals.models import Connection
from portaladmin.portals.permissions import connections_visible_to


def job_list(*, user, filters: dict | None = None) -> QuerySet[Job]:
    """Jobs whose every connection the user can see (superusers: all), newest first, filtered."""
    filters = filters or {}
    qs = Job.objects.select_related("started_by", "connection")
    if not user.is_superuser:
        visible = connections_visible_to(user).values("pk")
        hidden = Connection.objects.exclude(pk__in=visible)
        qs = qs.filter(connections__in=visible).exclude(connections__in=hidden).distinct()
    if filters.get("connection"):
        qs = qs.filter(connections__slug=filters["connection"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("person"):
        qs = qs.filter(started_by__username__iexact=filters["person"])
    return qs.order_by("-created_at", "-id")


def job_get_for_user(*, user, job_id: int) -> Job:
    """The job, or 404 when it does not exist or touches a connection the user cannot see."""
    job = job_list(user=user).filter(pk=job_id).first()
    if job is None:
        raise Http404("No such job.")
    return job


def job_items(*, job: Job, status: str | None = None) -> QuerySet[JobItem]:
    qs = job.items.select_related("connection").order_by("id")
    if status:
        qs = qs.filter(status=status)
    return qs
