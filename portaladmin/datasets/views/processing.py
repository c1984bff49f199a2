"""Processors from the catalogue (generated forms, edit, reorder) and the schema view (fields, their
configuration, a records preview reflecting both)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portaladmin.core.htmx import redirect, render_page
from portaladmin.core.portalerrors import form_add_portal_errors
from portaladmin.datasets.forms_parts import SchemaFieldForm
from portaladmin.datasets.processor_catalogue import ProcessorParamsForm, initial_from
from portaladmin.datasets.selectors import snapshot_get
from portaladmin.datasets.services import extras
from portaladmin.datasets.views.common import gone_to_list, list_url, tab_url
from portaladmin.portals.client.errors import PortalError, PortalValidationError
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.permissions import OPERATE, VIEW


def schema_url(connection, uid: str) -> str:
    return reverse("datasets:schema", kwargs={"conn": connection.slug, "uid": uid})


def _ctx(connection, uid: str, **extra) -> dict:
    return {"connection": connection, "uid": uid, "snapshot": snapshot_get(connection=connection, uid=uid),
            "back_url": tab_url(connection, uid, "processing"), **extra}


def _field_names(connection, uid: str) -> list[str]:
    try:
        return [f.name for f in extras.schema_read(connection=connection, uid=uid)["schema"]]
    except PortalError:
        return []  # the form still works: field parameters become free text


# ---------------------------------------------------------------------------------------------- processors

@connection_view(OPERATE)
@require_http_methods(["GET", "POST"])
def processor_new(request, connection, uid: str):
    """The catalogue (GET without a type), a type's generated form (?type=…), or saving it (POST)."""
    try:
        catalogue = extras.processor_catalogue_read(connection=connection)
    except PortalError as exc:
        return gone_to_list(request, connection, uid, exc) or redirect(request, tab_url(connection, uid, "processing"))
    kind = (request.POST.get("type") if request.method == "POST" else request.GET.get("type")) or ""
    ctx = _ctx(connection, uid, catalogue=catalogue.values(), chosen=kind)
    if not kind:
        return render_page(request, "datasets/parts/processor_form.html", ctx)
    ptype = catalogue.get(kind)
    if ptype is None:  # refused before anything is sent
        messages.error(request, f"The portal offers no processor of type {kind!r}: choose one from the "
                                "catalogue. Nothing was sent.")
        return render_page(request, "datasets/parts/processor_form.html", {**ctx, "chosen": ""}, status=400)
    names = _field_names(connection, uid)
    if request.method == "GET":
        ctx["form"] = ProcessorParamsForm(ptype=ptype, field_names=names)
        return render_page(request, "datasets/parts/processor_form.html", {**ctx, "ptype": ptype})
    form = ProcessorParamsForm(request.POST, ptype=ptype, field_names=names)
    if form.is_valid():
        try:
            extras.processor_save(connection=connection, actor=request.user, uid=uid, body=form.body(),
                                  request=request)
        except PortalError as exc:
            if gone := gone_to_list(request, connection, uid, exc, form=_aliased(form, exc)):
                return gone
        else:
            messages.success(request, f"Processor {form.body()['label']} appended.")
            return redirect(request, schema_url(connection, uid))
    return render_page(request, "datasets/parts/processor_form.html", {**ctx, "ptype": ptype, "form": form})


def _aliased(form, exc: PortalError):
    """The portal names parameters as sent (`field`); the form's inputs are `p_field`."""
    if isinstance(exc, PortalValidationError) and isinstance(exc.detail, dict):
        exc.detail = {(f"p_{k}" if f"p_{k}" in form.fields else k): v for k, v in exc.detail.items()}
    return form


@connection_view(OPERATE)
@require_http_methods(["GET", "POST"])
def processor_change(request, connection, uid: str, processor_uid: str):
    try:
        catalogue = extras.processor_catalogue_read(connection=connection)
        current = extras.processor_read(connection=connection, uid=uid, processor_uid=processor_uid)
    except PortalError as exc:
        return gone_to_list(request, connection, uid, exc) or redirect(request, schema_url(connection, uid))
    ptype = catalogue.get(current["type"])
    if ptype is None:
        messages.error(request, f"The portal no longer offers processors of type {current['type']!r}: this one "
                                "can only be deleted.")
        return redirect(request, schema_url(connection, uid))
    names = _field_names(connection, uid)
    ctx = _ctx(connection, uid, ptype=ptype, current=current, chosen=ptype.type)
    if request.method == "GET":
        form = ProcessorParamsForm(initial=initial_from(current["raw"], ptype), ptype=ptype, field_names=names)
        return render_page(request, "datasets/parts/processor_form.html", {**ctx, "form": form})
    form = ProcessorParamsForm(request.POST, ptype=ptype, field_names=names)
    if form.is_valid():
        try:
            extras.processor_save(connection=connection, actor=request.user, uid=uid, body=form.body(),
                                  processor_uid=processor_uid, request=request)
        except PortalError as exc:
            if gone := gone_to_list(request, connection, uid, exc, form=_aliased(form, exc)):
                return gone
        else:
            messages.success(request, "Processor saved.")
            return redirect(request, schema_url(connection, uid))
    return render_page(request, "datasets/parts/processor_form.html", {**ctx, "form": form})


@connection_view(OPERATE)
@require_POST
def processor_move(request, connection, uid: str, processor_uid: str, direction: str):
    if direction not in ("up", "down"):
        raise Http404("No such direction.")
    try:
        moved = extras.processor_move(connection=connection, actor=request.user, uid=uid,
                                      processor_uid=processor_uid, direction=direction, request=request)
    except PortalError as exc:
        if gone := gone_to_list(request, connection, uid, exc):
            return gone
    else:
        where = "first" if direction == "up" else "last"
        messages.success(request, "Processor moved." if moved else f"That processor is already {where}.")
    return redirect(request, schema_url(connection, uid))


# ---------------------------------------------------------------------------------------------- schema

@connection_view(VIEW)
@require_GET
def schema(request, connection, uid: str):
    ctx = _ctx(connection, uid)
    try:
        ctx.update(extras.schema_read(connection=connection, uid=uid))
        ctx["processors"] = extras.processors_read(connection=connection, uid=uid)
    except PortalError as exc:
        if gone_to_list(request, connection, uid, exc):
            return redirect(request, list_url(connection))
        ctx["load_error"] = True
    return render_page(request, "datasets/parts/schema.html", ctx)


@connection_view(OPERATE)
@require_http_methods(["GET", "POST"])
def schema_field(request, connection, uid: str, field_name: str):
    try:
        data = extras.schema_read(connection=connection, uid=uid)
    except PortalError as exc:
        return gone_to_list(request, connection, uid, exc) or redirect(request, schema_url(connection, uid))
    current = next((f for f in data["schema"] if f.name == field_name), None)
    if current is None:
        messages.error(request, f"The dataset has no field {field_name!r} (renamed or removed meanwhile?).")
        return redirect(request, schema_url(connection, uid))
    ctx = _ctx(connection, uid, field=current, back_url=schema_url(connection, uid))
    if request.method == "GET":
        form = SchemaFieldForm(initial={"name": current.name, "label": current.label, "type": current.type,
                                        "description": current.description, "annotations": current.annotations})
        return render_page(request, "datasets/parts/schema_field.html", {**ctx, "form": form})
    form = SchemaFieldForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            changes = extras.schema_field_save(
                connection=connection, actor=request.user, uid=uid, field_name=field_name, current=current,
                name=d["name"], label=d["label"], type=d["type"], description=d["description"],
                annotations=d["annotations"], request=request)
        except PortalError as exc:
            aliases = {"to_name": "name", "field_label": "label", "type_param": "type", "annotation": "annotations"}
            if isinstance(exc, PortalValidationError):
                form_add_portal_errors(form, exc, aliases=aliases)
                messages.error(request, "The portal refused this change; nothing was kept.")
            elif gone_to_list(request, connection, uid, exc):
                return redirect(request, list_url(connection))
        else:
            messages.success(request, f"Field {field_name}: saved {', '.join(changes)}." if changes
                             else "Nothing changed: nothing was sent to the portal.")
            return redirect(request, schema_url(connection, uid))
    return render_page(request, "datasets/parts/schema_field.html", {**ctx, "form": form})
