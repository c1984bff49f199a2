"""Each person's pages in their own time zone (chosen on their account page, UTC until then)."""

import zoneinfo

from django.utils import timezone

SESSION_KEY = "time_zone"


class TimeZoneMiddleware:
    """Activates the person's zone for the request. The zone is kept in the session (read from the database once
    per session, set again when they change it), so a page costs no extra query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = None
        if request.user.is_authenticated:
            name = request.session.get(SESSION_KEY)
            if name is None:
                from portaladmin.accounts.services import time_zone_get

                name = request.session[SESSION_KEY] = time_zone_get(user=request.user)
        timezone.deactivate()
        if name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                pass  # a zone that vanished from the system's database: UTC rather than an error page
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
