"""Pages for a portal's API keys (admin) and datasource connections (list: viewer; changes: admin)."""

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from portaladmin.core.htmx import redirect
from portaladmin.core.once import once_keep, once_take
from portaladmin.core.portalerrors import form_add_portal_errors
from portaladmin.portals import apikeys, datasources
from portaladmin.portals.client.errors import PortalError, PortalNotFound
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.keyforms import (
    ApiKeyForm,
    ConnectionKeyForm,
    DatasourceAccessForm,
    DatasourceForm,
    RevokeForm,
)
from portaladmin.portals.permissions import ADMIN, VIEW


def _form_error(form, exc: PortalError) -> None:
    form_add_portal_errors(form, exc)


# --- API keys ------------------------------------------------------------------------------------------

@never_cache  # the answer to a create may carry the new key, once
@connection_view(ADMIN)
def apikey_list(request, connection):
    form = ConnectionKeyForm(request.POST or None, initial={"label": f"portaladmin ({connection.slug})",
                                                            "revoke_previous": True})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            secret, warning = apikeys.apikey_create_for_connection(
                connection=connection, label=data["label"], permissions=data["permissions"],
                revoke_previous=data["revoke_previous"], actor=request.user, request=request)
        except PortalError as exc:
            _form_error(form, exc)
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "The new key is stored encrypted and is now the connection's key.")
            if warning:
                messages.warning(request, warning)
            if data["reveal"]:  # Post/Redirect/Get: a reload shows nothing again and never creates another key
                once_keep(request, slot=_new_key_slot(connection), secret=secret)
                return redirect(request, reverse("portals:apikey-new", kwargs={"conn": connection.slug}))
            return redirect(request, reverse("portals:apikeys", kwargs={"conn": connection.slug}))
    search = request.GET.get("q", "")[:200]
    listing = apikeys.apikey_listing(connection=connection, search=search)
    return render(request, "portals/apikeys.html", {"connection": connection, "listing": listing, "form": form,
                                                    "search": search, "revoke_form": RevokeForm()})


def _new_key_slot(connection) -> str:
    return f"apikey:{connection.pk}"


@never_cache
@connection_view(ADMIN)
@require_safe
def apikey_new_shown(request, connection):
    """The key just created for the connection, shown once (kept encrypted in the session for this one display)."""
    secret = once_take(request, slot=_new_key_slot(connection))
    return render(request, "portals/apikey_reveal.html", {"connection": connection, "secret": secret})


@connection_view(ADMIN)
def apikey_edit(request, connection, key_uid):
    try:
        key = apikeys.apikey_get(connection=connection, uid=key_uid)
    except PortalNotFound:
        messages.error(request, "This API key no longer exists on the portal.")
        return redirect(request, reverse("portals:apikeys", kwargs={"conn": connection.slug}))
    except PortalError as exc:
        messages.error(request, f"The key could not be read: {exc.message}")
        return redirect(request, reverse("portals:apikeys", kwargs={"conn": connection.slug}))
    form = ApiKeyForm(request.POST or None, initial={"label": key.label, "permissions": key.permissions})
    if request.method == "POST" and form.is_valid():
        try:
            apikeys.apikey_update(connection=connection, uid=key_uid, label=form.cleaned_data["label"],
                                  permissions=form.cleaned_data["permissions"], actor=request.user, request=request)
        except PortalError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Key {key_uid} saved.")
            return redirect(request, reverse("portals:apikeys", kwargs={"conn": connection.slug}))
    return render(request, "portals/apikey_form.html", {"connection": connection, "key": key, "form": form,
                                                        "revoke_form": RevokeForm()})


@require_POST
@connection_view(ADMIN)
def apikey_revoke(request, connection, key_uid):
    form = RevokeForm(request.POST)
    back = reverse("portals:apikeys", kwargs={"conn": connection.slug})
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(request, back)
    try:
        apikeys.apikey_revoke(connection=connection, uid=key_uid, reason=form.cleaned_data["reason"],
                              actor=request.user, request=request)
    except PortalError as exc:
        messages.error(request, f"The key was not revoked: {exc.message}")
    else:
        own = key_uid == connection.key_uid
        messages.success(request, f"Key {key_uid} revoked." + (
            " It was this connection's own key: enter or create a new one." if own else ""))
    return redirect(request, back)


# --- datasource connections ---------------------------------------------------------------------------

@require_safe
@connection_view(VIEW)
def datasource_list(request, connection):
    items, error = [], ""
    try:
        items = datasources.datasource_list(connection=connection)
    except PortalError as exc:
        error = f"The portal's datasource connections could not be read: {exc.message}"
    return render(request, "portals/datasources.html", {"connection": connection, "items": items, "error": error})


@connection_view(ADMIN)
def datasource_create(request, connection):
    form = DatasourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = datasources.datasource_create(connection=connection, data=form.cleaned_data, actor=request.user,
                                                 request=request)
        except PortalError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Datasource connection {made.uid} created.")
            return redirect(request, reverse("portals:datasources", kwargs={"conn": connection.slug}))
    return render(request, "portals/datasource_form.html", {"connection": connection, "form": form})


@connection_view(ADMIN)
def datasource_edit(request, connection, ds_uid):
    back = reverse("portals:datasources", kwargs={"conn": connection.slug})
    try:
        current = datasources.datasource_get(connection=connection, uid=ds_uid)
    except PortalError as exc:
        messages.error(request, f"The datasource connection could not be read: {exc.message}")
        return redirect(request, back)
    initial = {"type": current.type, "url": current.url, "is_reusable": current.is_reusable,
               "username": current.auth_username or "", "header_name": (current.header_names or [""])[0]}
    form = DatasourceForm(request.POST or None, initial=initial, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            datasources.datasource_update(connection=connection, uid=ds_uid, data=form.cleaned_data,
                                          actor=request.user, request=request)
        except PortalError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Datasource connection {ds_uid} saved.")
            return redirect(request, back)
    return render(request, "portals/datasource_form.html", {"connection": connection, "form": form,
                                                            "current": current,
                                                            **_access_context(connection, ds_uid)})


def _access_context(connection, ds_uid: str, access_form=None) -> dict:
    users, groups, error = [], [], ""
    try:
        users, groups = datasources.datasource_access(connection=connection, uid=ds_uid)
    except PortalError as exc:
        error = f"Who may use it could not be read: {exc.message}"
    return {"access_users": users, "access_groups": groups, "access_error": error,
            "access_form": access_form or DatasourceAccessForm(), "manage_permission": datasources.MANAGE}


@require_POST
@connection_view(ADMIN)
def datasource_access_set(request, connection, ds_uid):
    back = reverse("portals:datasource-edit", kwargs={"conn": connection.slug, "ds_uid": ds_uid})
    form = DatasourceAccessForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            datasources.datasource_access_set(connection=connection, uid=ds_uid, kind=data["kind"],
                                              target=data["target"], manage=data["manage"], actor=request.user,
                                              request=request)
        except PortalError as exc:
            _form_error(form, exc)
        else:
            who = f"{'User' if data['kind'] == 'user' else 'Group'} {data['target']}"
            messages.success(request, f"{who} may use this datasource connection"
                                      f"{' and manage it' if data['manage'] else ''}.")
            return redirect(request, back)
    messages.error(request, "Access not changed: " + "; ".join(
        str(e) for errors in form.errors.values() for e in errors))
    return redirect(request, back)


@require_POST
@connection_view(ADMIN)
def datasource_access_remove(request, connection, ds_uid):
    back = reverse("portals:datasource-edit", kwargs={"conn": connection.slug, "ds_uid": ds_uid})
    kind, target = request.POST.get("kind", ""), request.POST.get("target", "").strip()
    if kind not in ("user", "group") or not target:
        messages.error(request, "Nothing to remove.")
        return redirect(request, back)
    try:
        datasources.datasource_access_remove(connection=connection, uid=ds_uid, kind=kind, target=target,
                                             actor=request.user, request=request)
    except PortalError as exc:
        messages.error(request, f"Access not removed: {exc.message}")
    else:
        messages.success(request, f"{'User' if kind == 'user' else 'Group'} {target} no longer has access.")
    return redirect(request, back)


@require_POST
@connection_view(ADMIN)
def datasource_delete(request, connection, ds_uid):
    try:
        datasources.datasource_delete(connection=connection, uid=ds_uid, actor=request.user, request=request)
    except PortalError as exc:
        messages.error(request, f"The datasource connection was not deleted: {exc.message}")
    else:
        messages.success(request, f"Datasource connection {ds_uid} deleted.")
    return redirect(request, reverse("portals:datasources", kwargs={"conn": connection.slug}))
