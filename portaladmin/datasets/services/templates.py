"""Metadata template writes (admin): create, update, switch on/off, delete a custom template. Each is audited.

What the portal allows (spec, update-metadata-template / delete-metadata-template): only non-system templates
of type basic or admin are fully editable and removable; the others may only be switched on or off, except
the always-active ones. `template_editable` says it once for the pages; the portal still has the last word.
"""

from __future__ import annotations

from portaladmin.audit.services import audit_remote_write
from portaladmin.portals.client import client_for
from portaladmin.portals.client.schemas import MetadataTemplate
from portaladmin.portals.models import Connection

EDITABLE_TYPES = ("basic", "admin")


def template_editable(template: MetadataTemplate) -> bool:
    return not template.is_system and template.type in EDITABLE_TYPES


def template_switchable(template: MetadataTemplate) -> bool:
    """Whether portaladmin can switch it on or off: the API's PUT takes only basic or admin bodies."""
    return not template.is_always_active and template.type in EDITABLE_TYPES


def metadata_template_create(*, connection: Connection, actor, body: dict, request=None) -> MetadataTemplate:
    with audit_remote_write(action="metadata.template.create", actor=actor, connection=connection,
                            target=body.get("name", ""), request=request,
                            extra={"fields": [f.get("name") for f in body.get("schema", [])]}):
        return client_for(connection).metadata_template_create(body)


def metadata_template_update(*, connection: Connection, actor, name: str, body: dict,
                             request=None) -> MetadataTemplate:
    with audit_remote_write(action="metadata.template.update", actor=actor, connection=connection, target=name,
                            request=request, extra={"fields": [f.get("name") for f in body.get("schema", [])]}):
        return client_for(connection).metadata_template_update(name, body)


def metadata_template_set_active(*, connection: Connection, actor, name: str, active: bool,
                                 request=None) -> MetadataTemplate:
    """Switch a template on or off: the API takes the whole template, so it is read first and sent back as is."""
    client = client_for(connection)
    current = client.metadata_template_get(name)
    body = {"name": current.name, "title": current.title, "type": current.type, "is_active": active,
            "schema": [{k: v for k, v in f.items() if k not in ("is_hidden", "suggest_url")}
                       for f in current.schema]}
    with audit_remote_write(action="metadata.template.activate" if active else "metadata.template.deactivate",
                            actor=actor, connection=connection, target=name, request=request):
        return client.metadata_template_update(name, body)


def metadata_template_delete(*, connection: Connection, actor, name: str, request=None) -> None:
    with audit_remote_write(action="metadata.template.delete", actor=actor, connection=connection, target=name,
                            request=request):
        client_for(connection).metadata_template_delete(name)
