"""The one place that decides who may do what on a connection. Views, forms and tasks all ask it.

viewer: read everything; operator: also publish/unpublish, start harvesters, invite, edit and add content;
admin: also delete (datasets and their resources, processors, field configurations, schedules and attachments
too: that destroys work), manage members, edit the connection and its key. Superusers are admin everywhere.
A user with no role on a connection must not learn it exists: callers answer 404.
Adding a connection: superusers, and people a superuser allowed to on the Team page (Django's own
`portals.add_connection` permission, "Can add connection").
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from portaladmin.portals.models import ROLE_RANK, Connection, Membership, Role

VIEW, OPERATE, ADMIN = Role.VIEWER, Role.OPERATOR, Role.ADMIN


def role_for(user, connection: Connection) -> Role | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    role = _roles(user).get(connection.pk)
    return Role(role) if role else None


def _roles(user) -> dict[int, str]:
    """{connection id: role} of a non-superuser, read once per request (cached on the user object)."""
    cache = getattr(user, "_portaladmin_roles", None)
    if cache is None:
        cache = dict(Membership.objects.filter(user=user).order_by().values_list("connection_id", "role"))
        user._portaladmin_roles = cache
    return cache


def visible_connection_ids(user) -> list[int] | None:
    """The ids of the connections the user may see, sorted; None for a superuser (all of them).

    A literal list lets a query say `connection_id IN (…)` instead of joining memberships again; it comes from
    the same cache as role_for, so a page that asks both reads the memberships once.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return None
    return sorted(_roles(user))


def has_role(user, connection: Connection, needed: Role) -> bool:
    role = role_for(user, connection)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[Role(needed)]


def require_role(user, connection: Connection, needed: Role) -> Role:
    """Raise Http404 for outsiders and PermissionDenied for members with too low a role."""
    role = role_for(user, connection)
    if role is None:
        raise Http404("No such connection.")
    if ROLE_RANK[role] < ROLE_RANK[Role(needed)]:
        raise PermissionDenied(f"This needs the {Role(needed).label.lower()} role on {connection.name}.")
    return role


def get_connection_for(user, slug: str, needed: Role = VIEW) -> tuple[Connection, Role]:
    try:
        connection = Connection.objects.get(slug=slug)
    except Connection.DoesNotExist:
        raise Http404("No such connection.") from None
    return connection, require_role(user, connection, needed)


ADD_CONNECTION = "portals.add_connection"


def can_add_connection(user) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_perm(ADD_CONNECTION)


def require_can_add_connection(user) -> None:
    if not can_add_connection(user):
        raise PermissionDenied("Adding a connection needs a superuser, or the permission given on the Team page.")


def connections_visible_to(user) -> QuerySet[Connection]:
    if not user.is_authenticated:
        return Connection.objects.none()
    if user.is_superuser:
        return Connection.objects.all()
    return Connection.objects.filter(memberships__user=user)


def forget_cached_roles(user) -> None:
    if hasattr(user, "_portaladmin_roles"):
        del user._portaladmin_roles
