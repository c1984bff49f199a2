"""The connection's metadata templates with their fields (any member), and custom templates' create, edit,
switch on/off and delete (admins: a template shapes every dataset's metadata on the portal)."""

from __future__ import annotations

from django.contrib import messages
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portaladmin.core.htmx import redirect, render_page
from portaladmin.core.portalerrors import form_add_portal_errors, portal_error_message
from portaladmin.datasets import remote
from portaladmin.datasets.metadata_form import KINDS
from portaladmin.datasets.services.templates import (
    metadata_template_create,
    metadata_template_delete,
    metadata_template_set_active,
    metadata_template_update,
    template_editable,
    template_switchable,
)
from portaladmin.datasets.template_forms import (
    TemplateForm,
    field_formset,
    place_schema_errors,
    template_body,
)
from portaladmin.datasets.views.common import portal_failure
from portaladmin.portals.client.errors import PortalError, PortalNotFound, PortalValidationError
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.permissions import ADMIN, VIEW, has_role


def templates_url(connection) -> str:
    return reverse("datasets:templates", kwargs={"conn": connection.slug})


@connection_view(VIEW)
@require_GET
def template_list(request, connection):
    try:
        templates = remote.metadata_templates_read(connection=connection)
    except PortalError as exc:
        portal_failure(request, connection, exc)
        templates = None
    rows = [{"t": t, "editable": template_editable(t), "switchable": template_switchable(t)}
            for t in templates or []]
    return render_page(request, "datasets/templates.html",
                       {"connection": connection, "templates": templates, "rows": rows,
                        "can_admin": has_role(request.user, connection, ADMIN), "editable_types": sorted(KINDS)})


def _form_page(request, connection, form, formset, *, stored=None):
    return render_page(request, "datasets/template_form.html",
                       {"connection": connection, "form": form, "formset": formset, "stored": stored},
                       partial="template-form")


def _refused(form, formset, exc: PortalError) -> None:
    """The portal's validation errors onto the template's inputs and the field rows they name."""
    if isinstance(exc, PortalValidationError):
        rest = place_schema_errors(formset, exc.detail)
        if rest or not formset.total_error_count():
            form_add_portal_errors(form, PortalValidationError(exc.message, status=exc.status, detail=rest or None))
        return
    form.add_error(None, portal_error_message(exc, wrote=True))


def _save(request, connection, form, formset, *, stored=None):
    """Validate, add rows on request, send; a page with the errors, or the list with a message."""
    if "add_rows" in request.POST:  # more empty rows, nothing sent (no script needed)
        data = request.POST.copy()
        data["f-TOTAL_FORMS"] = str(int(data.get("f-TOTAL_FORMS") or 0) + 3)
        return _form_page(request, connection, form, field_formset(data), stored=stored)
    if not (form.is_valid() and formset.is_valid()):
        return _form_page(request, connection, form, formset, stored=stored)
    body = template_body(form, formset, stored=stored.raw if stored else None)
    if not body["schema"]:
        form.add_error(None, "Define at least one field.")
        return _form_page(request, connection, form, formset, stored=stored)
    try:
        if stored is None:
            metadata_template_create(connection=connection, actor=request.user, body=body, request=request)
        else:
            metadata_template_update(connection=connection, actor=request.user, name=stored.name, body=body,
                                     request=request)
    except PortalError as exc:
        _refused(form, formset, exc)
        return _form_page(request, connection, form, formset, stored=stored)
    messages.success(request, f"Template {body['name']} {'created' if stored is None else 'saved'} "
                              f"with {len(body['schema'])} field{'s' if len(body['schema']) != 1 else ''}.")
    return redirect(request, templates_url(connection) + f"#template-{body['name']}")


@connection_view(ADMIN)
@require_http_methods(["GET", "POST"])
def template_create(request, connection):
    if request.method == "GET":
        return _form_page(request, connection, TemplateForm(initial={"type": "basic", "is_active": True}),
                          field_formset())
    return _save(request, connection, TemplateForm(request.POST), field_formset(request.POST))


def _stored(request, connection, name: str):
    """The template as the portal has it now, or None with a message (gone, or not editable)."""
    try:
        stored = remote.metadata_template_read(connection=connection, name=name)
    except PortalNotFound:
        messages.error(request, f"The portal has no metadata template {name!r} (deleted meanwhile?).")
        return None
    except PortalError as exc:
        portal_failure(request, connection, exc)
        return None
    if not template_editable(stored):
        messages.error(request, f"{stored.title or name} is provided by the platform: its fields cannot be changed"
                                " (it can only be switched on or off).")
        return None
    return stored


@connection_view(ADMIN)
@require_http_methods(["GET", "POST"])
def template_edit(request, connection, name: str):
    stored = _stored(request, connection, name)
    if stored is None:
        return redirect(request, templates_url(connection))
    if request.method == "GET":
        form = TemplateForm(initial={"name": stored.name, "title": stored.title, "type": stored.type,
                                     "is_active": bool(stored.is_active)}, editing=True)
        return _form_page(request, connection, form, field_formset(schema=stored.schema), stored=stored)
    form = TemplateForm(request.POST, initial={"name": stored.name}, editing=True)
    return _save(request, connection, form, field_formset(request.POST), stored=stored)


@connection_view(ADMIN)
@require_POST
def template_delete(request, connection, name: str):
    if _stored(request, connection, name) is not None:
        try:
            metadata_template_delete(connection=connection, actor=request.user, name=name, request=request)
        except PortalError as exc:
            messages.error(request, portal_error_message(exc, wrote=True, thing=f"Template {name}"))
        else:
            messages.success(request, f"Template {name} deleted.")
    return redirect(request, templates_url(connection))


@connection_view(ADMIN)
@require_POST
def template_active(request, connection, name: str):
    active = request.POST.get("active") == "1"
    try:
        metadata_template_set_active(connection=connection, actor=request.user, name=name, active=active,
                                     request=request)
    except PortalError as exc:
        messages.error(request, portal_error_message(exc, wrote=True, thing=f"Template {name}"))
    else:
        messages.success(request, f"Template {name} {'switched on' if active else 'switched off'}.")
    return redirect(request, templates_url(connection) + f"#template-{name}")
