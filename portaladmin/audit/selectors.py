from django.db.models import Q, QuerySet

from portaladmin.audit.models import AuditEvent
from portaladmin.portals.permissions import connections_visible_to


def audit_events_visible_to(user) -> QuerySet[AuditEvent]:
    """Superusers see everything; others see events on their connections and their own log-ins."""
    events = AuditEvent.objects.select_related("actor", "connection")
    if user.is_superuser:
        return events
    return events.filter(Q(connection__in=connections_visible_to(user)) | Q(connection__isnull=True, actor=user))


def audit_event_list(*, user, filters: dict) -> QuerySet[AuditEvent]:
    events = audit_events_visible_to(user)
    if filters.get("connection"):
        events = events.filter(connection__slug=filters["connection"])
    if filters.get("person"):
        events = events.filter(actor_name__icontains=filters["person"])
    if filters.get("action"):
        events = events.filter(action__startswith=filters["action"])
    if filters.get("outcome"):
        events = events.filter(outcome=filters["outcome"])
    if filters.get("since"):
        events = events.filter(created_at__date__gte=filters["since"])
    if filters.get("until"):
        events = events.filter(created_at__date__lte=filters["until"])
    return events
