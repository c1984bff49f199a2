from functools import wraps

from portaladmin.portals.permissions import VIEW, get_connection_for


def connection_view(needed=VIEW):
    """Resolve /c/<conn>/… to (request.connection, request.role), enforcing the role first.

    Outsiders get 404, members below `needed` get 403. The view receives `conn` as a Connection.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, conn, *args, **kwargs):
            connection, role = get_connection_for(request.user, conn, needed)
            request.connection = connection
            request.role = role
            return view(request, connection, *args, **kwargs)

        # Lets RequestBodyLimitMiddleware refuse an upload before reading it, with the view's own 404/403.
        wrapper.check_access = lambda request, conn, *args, **kwargs: get_connection_for(request.user, conn, needed)
        return wrapper

    return decorator
