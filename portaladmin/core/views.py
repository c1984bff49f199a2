from django.contrib.auth.decorators import login_not_required
from django.db import connection as db_connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_ok() -> tuple[bool, str]:
    try:
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except Exception as exc:  # noqa: BLE001 - a health check reports, it does not raise
        return False, type(exc).__name__


def _broker_ok() -> tuple[bool, str]:
    from portaladmin.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True, "ok"
    except Exception as exc:  # noqa: BLE001
        return False, type(exc).__name__


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """For load balancers: 200 when the database and the broker answer, 503 otherwise."""
    db_ok, db_msg = _database_ok()
    broker_ok, broker_msg = _broker_ok()
    ok = db_ok and broker_ok
    return JsonResponse({"status": "ok" if ok else "unavailable", "database": db_msg, "broker": broker_msg},
                        status=200 if ok else 503)


def placeholder(request, conn=None, **kwargs):
    """Temporary page for sections that are being built (replaced by each app's own views)."""
    from django.shortcuts import render

    from portaladmin.portals.permissions import get_connection_for

    if conn:
        request.connection, request.role = get_connection_for(request.user, conn)
    return render(request, "placeholder.html", {})
