"""The connection's metadata templates with their fields (types, requirement, allowed values): read-only."""

from __future__ import annotations

from django.views.decorators.http import require_GET

from portaladmin.core.htmx import render_page
from portaladmin.datasets import remote
from portaladmin.datasets.metadata_form import KINDS
from portaladmin.datasets.views.common import portal_failure
from portaladmin.portals.client.errors import PortalError
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.permissions import VIEW


@connection_view(VIEW)
@require_GET
def template_list(request, connection):
    try:
        templates = remote.metadata_templates_read(connection=connection)
    except PortalError as exc:
        portal_failure(request, connection, exc)
        templates = None
    return render_page(request, "datasets/templates.html",
                       {"connection": connection, "templates": templates, "editable_types": sorted(KINDS)})
