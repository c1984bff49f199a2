"""Reads of jobs, always scoped to what the user may see."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.http import Http404

from portaladmin.core.db import marks
from portaladmin.jobs.models import ItemStatus, Job, JobItem
from portaladmin.portals.models import Connection
from portaladmin.portals.permissions import visible_connection_ids


def job_list(*, user, filters: dict | None = None) -> QuerySet[Job]:
    """Jobs whose every connection the user can see (superusers: all), newest first, filtered."""
    filters = filters or {}
    qs = Job.objects.select_related("started_by", "connection")
    visible = visible_connection_ids(user)
    if visible is not None:
        # Two correlated EXISTS instead of joins + DISTINCT: each job once, with no de-duplication for the planner
        # to cost (it was ~5 ms a query on the overview), and the ids are a literal list, not a memberships join.
        links = Job.connections.through.objects.filter(job_id=OuterRef("pk"))
        qs = (qs.filter(Exists(links.filter(connection_id__in=visible)))
              .exclude(Exists(links.exclude(connection_id__in=visible))))
    if filters.get("connection"):
        qs = qs.filter(connections__slug=filters["connection"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("person"):
        qs = qs.filter(started_by__username__iexact=filters["person"])
    return qs.order_by("-created_at", "-id")


def job_visibility_sql(user, alias: str = "j") -> tuple[str, list] | None:
    """job_list's visibility rule as an SQL condition on the jobs table aliased `alias`, with its parameters:
    ("", []) for a superuser (every job), None for someone who sees no job. For the overview's hot statements,
    where building the same rule through the ORM cost more CPU than the database spends on the query."""
    visible = visible_connection_ids(user)
    if visible is None:
        return "", []
    if not visible:
        return None
    links = Job.connections.through._meta.db_table
    ids = marks(visible)
    sql = (f" AND EXISTS (SELECT 1 FROM {links} v WHERE v.job_id = {alias}.id AND v.connection_id IN ({ids}))"  # noqa: S608  # nosec B608
           f" AND NOT EXISTS (SELECT 1 FROM {links} h WHERE h.job_id = {alias}.id"  # noqa: S608  # nosec B608
           f" AND h.connection_id NOT IN ({ids}))")
    return sql, [*visible, *visible]


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


def job_send_queue(*, job: Job) -> list[tuple[int | None, int, int]]:
    """Per connection of the job with items still to send: (its request_budget or None, this job's pending items
    there, how many jobs have sends waiting there, this one included: they take turns). Two grouped counts."""
    pending = dict(JobItem.objects.filter(job=job, status=ItemStatus.PENDING).order_by().values("connection_id")
                   .annotate(n=Count("id")).values_list("connection_id", "n"))
    if not pending:
        return []
    sharing = dict(JobItem.objects.filter(connection_id__in=list(pending), status=ItemStatus.PENDING,
                                          enqueued_at__isnull=True, next_poll_at__isnull=False)
                   .order_by().values("connection_id").annotate(n=Count("job_id", distinct=True))
                   .values_list("connection_id", "n"))
    budgets = dict(Connection.objects.filter(pk__in=list(pending)).values_list("pk", "request_budget"))
    return [(budgets.get(conn_id), n, max(1, sharing.get(conn_id, 0))) for conn_id, n in pending.items()]
