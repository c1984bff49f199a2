from django.utils.functional import SimpleLazyObject

from portaladmin.portals.models import ROLE_RANK
from portaladmin.portals.permissions import can_add_connection, connections_visible_to
from portaladmin.portals.switcher import switch_links


def connections(request):
    """The connection switcher's list and the current connection's role flags, for base.html."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = getattr(request, "role", None)
    rank = ROLE_RANK.get(role, 0) if role else 0
    return {
        # Lazy: evaluated only when base.html draws the switcher (not for fragments).
        "nav_connections": SimpleLazyObject(lambda: switch_links(request, connections_visible_to(user).only(
            "name", "slug", "health"))),
        "current_connection": getattr(request, "connection", None),
        "current_role": role,
        "can_operate": rank >= 2,
        "can_admin": rank >= 3,
        # Lazy too: it asks the auth backend (two permission queries), and only a page with no connection shows it.
        "can_add_connection": SimpleLazyObject(lambda: can_add_connection(user)),
    }
