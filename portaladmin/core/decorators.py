from functools import wraps

from django.core.exceptions import PermissionDenied


def superuser_required(message: str = "Only superusers may do this."):
    """403 for everyone else. (user_passes_test would send a logged-in non-superuser to the log-in page, which
    sends logged-in people back: an endless redirect loop.) Anonymous people never get here: LoginRequiredMiddleware."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not (request.user.is_active and request.user.is_superuser):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
