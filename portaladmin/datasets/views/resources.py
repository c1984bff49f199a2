"""A dataset's resources: the resource page, adding one (from a URL, an upload or a saved datasource connection)
with the portal's guesses and a records preview BEFORE saving, editing with the same preview, the actions
(clean cache, enable/disable, recover, delete), the realtime push key (shown once) and streamed downloads.

The draft lives in the page (DraftForm's plain fields); every request rebuilds the datasource from them. Nothing
is written to the portal before "Save", except the uploaded file itself (the API needs it to guess and preview).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portaladmin.core.bodylimit import accepts_upload
from portaladmin.core.htmx import redirect, render_page
from portaladmin.core.once import once_keep, once_take
from portaladmin.core.portalerrors import form_add_portal_errors
from portaladmin.datasets import remote
from portaladmin.datasets import services as dataset_services
from portaladmin.datasets.resource_forms import (
    PARAM_PREFIX,
    DraftForm,
    SourceConnectionForm,
    SourceUploadForm,
    SourceUrlForm,
)
from portaladmin.datasets.selectors import snapshot_get
from portaladmin.datasets.services import resources as rs
from portaladmin.datasets.views.common import (
    gone_to_list,
    portal_failure,
    tab_url,
    write_failed,
)
from portaladmin.portals.client.errors import PortalError, PortalValidationError
from portaladmin.portals.client.resources import push_key_of
from portaladmin.portals.datasources import datasource_list
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.permissions import ADMIN, OPERATE, VIEW

TAB = "resources"


def resource_url(connection, uid: str, resource_uid: str) -> str:
    return reverse("datasets:resource", kwargs={"conn": connection.slug, "uid": uid, "resource_uid": resource_uid})


def _ctx(connection, uid: str, **extra) -> dict:
    return {"connection": connection, "uid": uid, "snapshot": snapshot_get(connection=connection, uid=uid),
            "max_upload": settings.PORTALADMIN_MAX_UPLOAD_BYTES, **extra}


# ---------------------------------------------------------------------------------------------- the draft

def _extractors(request, connection) -> list:
    try:
        return rs.extractors_read(connection=connection)
    except PortalError as exc:
        portal_failure(request, connection, exc)
        return []


def _bound_draft(*, extractors, source: rs.Source, title: str, extractor: str, params: dict) -> DraftForm:
    """A bound draft from known values, so the preview's refusals can land on its fields like a typed one's."""
    initial = DraftForm.initial_for(source=source, title=title, extractor=extractor, params=params)
    probe = DraftForm(initial=initial, extractors=extractors, extractor=extractor)
    data = {}
    for name, field in probe.fields.items():
        value = probe.initial.get(name, initial.get(name))
        if name.startswith(PARAM_PREFIX) and isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value) if not isinstance(value, str) else value
    return DraftForm(data, extractors=extractors, extractor=extractor)


def _with_preview(request, connection, uid: str, form: DraftForm) -> dict:
    """Ask the portal for the records this draft would give; its refusal goes onto the draft's fields."""
    if not form.is_valid():
        return {"preview": None}
    try:
        preview = rs.resource_draft_preview(connection=connection, uid=uid, source=form.source_obj(),
                                            extractor=form.cleaned_data["extractor"], params=form.params())
    except PortalValidationError as exc:
        form_add_portal_errors(form, exc, aliases=form.portal_aliases())
        return {"preview": None, "preview_refused": True}
    except PortalError as exc:
        portal_failure(request, connection, exc, uid=uid)
        return {"preview": None, "preview_error": True}
    return {"preview": preview, "preview_rows": rs.preview_rows(preview)}


def _render_draft(request, connection, uid: str, form: DraftForm, *, resource=None, status: int = 200):
    ctx = _ctx(connection, uid, form=form, resource=resource, **_with_preview(request, connection, uid, form))
    template = "datasets/resources/edit.html" if resource is not None else "datasets/resources/new.html"
    return render_page(request, template, ctx, partial="draft", status=status)


def _start_draft(request, connection, uid: str, *, source: rs.Source, title: str, form, field: str):
    """The portal guesses the extractor and its parameters for `source`, then the draft shows its preview."""
    extractors = _extractors(request, connection)
    try:
        extractor, params = rs.resource_guess(connection=connection, uid=uid, source=source)
    except PortalError as exc:
        aliases = {"datasource": field, "connection": field, "relative_url": field, "file": field}
        if (gone := gone_to_list(request, connection, uid, exc, form=form, aliases=aliases)) is not None:
            return gone
        return _render_sources(request, connection, uid, **{_FORM_NAMES[field]: form})
    if extractor not in {e.type for e in extractors}:
        extractors = [*extractors, _unknown_extractor(extractor)]
    draft = _bound_draft(extractors=extractors, source=source, title=title, extractor=extractor, params=params)
    return _render_draft(request, connection, uid, draft)


def _unknown_extractor(name: str):
    from portaladmin.portals.client.schemas import Extractor

    return Extractor(type=name, label=name, parameters=[])


_FORM_NAMES = {"url": "url_form", "file": "upload_form", "relative_url": "connection_form",
               "connection_uid": "connection_form"}


def _connections(request, connection):
    """The portal's saved datasource connections, or None when they cannot be read (the page says so; the other
    sources still work)."""
    try:
        return datasource_list(connection=connection)
    except PortalError:
        return None


def _render_sources(request, connection, uid: str, **forms):
    connections = forms.pop("connections", None)
    if connections is None and "connection_form" not in forms:
        connections = _connections(request, connection)
    ctx = _ctx(connection, uid, url_form=forms.get("url_form") or SourceUrlForm(),
               upload_form=forms.get("upload_form") or SourceUploadForm(),
               connection_form=forms.get("connection_form") or SourceConnectionForm(connections=connections or ()),
               connections_error=connections is None and "connection_form" not in forms)
    return render_page(request, "datasets/resources/new.html", ctx, partial="draft")


@connection_view(OPERATE)
@require_GET
def resource_new(request, connection, uid: str):
    return _render_sources(request, connection, uid)


@connection_view(OPERATE)
@require_POST
def resource_new_url(request, connection, uid: str):
    form = SourceUrlForm(request.POST)
    if not form.is_valid():
        return _render_sources(request, connection, uid, url_form=form)
    source = rs.Source(kind="url", url=form.cleaned_data["url"])
    return _start_draft(request, connection, uid, source=source, title=form.cleaned_data["title"], form=form,
                        field="url")


@accepts_upload(max_bytes=lambda: settings.PORTALADMIN_MAX_UPLOAD_BYTES)
@connection_view(OPERATE)
@require_POST
def resource_new_upload(request, connection, uid: str):
    form = SourceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_sources(request, connection, uid, upload_form=form)
    upload = form.cleaned_data["file"]
    upload.seek(0)
    try:  # streamed from Django's upload file to the portal
        uploaded = rs.resource_file_upload(connection=connection, actor=request.user, uid=uid, file=upload.file,
                                           filename=upload.name,
                                           content_type=upload.content_type or "application/octet-stream",
                                           request=request)
    except PortalError as exc:
        if (gone := gone_to_list(request, connection, uid, exc, form=form)) is not None:
            return gone
        return _render_sources(request, connection, uid, upload_form=form)
    source = rs.Source(kind="file", file_uid=uploaded.uid)
    return _start_draft(request, connection, uid, source=source, title=form.cleaned_data["title"] or upload.name,
                        form=form, field="file")


@connection_view(OPERATE)
@require_POST
def resource_new_connection(request, connection, uid: str):
    connections = _connections(request, connection)
    if connections is None:
        messages.error(request, "The portal's datasource connections could not be read; nothing was sent. "
                                "Try again in a moment.")
    form = SourceConnectionForm(request.POST, connections=connections or ())
    if connections is None or not form.is_valid():
        return _render_sources(request, connection, uid, connection_form=form)
    chosen = form.connections[form.cleaned_data["connection_uid"]]
    source = rs.Source(kind="connection", connection_uid=chosen.uid, connection_type=chosen.type or "http",
                       relative_url=form.cleaned_data["relative_url"])
    return _start_draft(request, connection, uid, source=source, title=form.cleaned_data["title"], form=form,
                        field="relative_url")


def _draft_from_post(request, connection, uid: str) -> DraftForm:
    extractors = _extractors(request, connection)
    chosen = request.POST.get("extractor", "")  # an unknown type is refused on its field by the form
    form = DraftForm(request.POST, extractors=extractors, extractor=chosen)
    if form.extractor_changed and form.is_valid():
        # Another extractor: its parameters differ; start from what the portal guesses for it.
        source = form.source_obj()
        try:
            extractor, params = rs.resource_guess(connection=connection, uid=uid, source=source, extractor=chosen)
        except PortalError:
            extractor, params = chosen, {}
        form = _bound_draft(extractors=extractors, source=source, title=form.cleaned_data["title"],
                            extractor=extractor, params=params)
    return form


@connection_view(OPERATE)
@require_POST
def resource_draft_preview(request, connection, uid: str, resource_uid: str | None = None):
    """The draft with the preview refreshed for what is typed now (HTMX on every change, or a plain button)."""
    form = _draft_from_post(request, connection, uid)
    resource = {"uid": resource_uid} if resource_uid else None
    return _render_draft(request, connection, uid, form, resource=resource)


@connection_view(OPERATE)
@require_POST
def resource_draft_save(request, connection, uid: str, resource_uid: str | None = None):
    form = _draft_from_post(request, connection, uid)
    resource = {"uid": resource_uid} if resource_uid else None
    if form.extractor_changed or not form.is_valid():
        if form.extractor_changed:
            messages.info(request, "The format changed: check its parameters and the preview, then save.")
        return _render_draft(request, connection, uid, form, resource=resource)
    d = form.cleaned_data
    # The preview first: parameters the portal cannot read are refused on their fields before anything is saved
    # (the portal itself would accept them and fail only at the next publication).
    try:
        rs.resource_draft_preview(connection=connection, uid=uid, source=form.source_obj(), extractor=d["extractor"],
                                  params=form.params())
    except PortalValidationError as exc:
        form_add_portal_errors(form, exc, aliases=form.portal_aliases())
        messages.error(request, "Not saved: the portal cannot read the data with these parameters.")
        return render_page(request, "datasets/resources/edit.html" if resource else "datasets/resources/new.html",
                           _ctx(connection, uid, form=form, resource=resource, preview=None, preview_refused=True),
                           partial="draft")
    except PortalError:
        pass  # the preview is a safeguard; the save below reports a portal that is down
    try:
        saved = rs.resource_save(connection=connection, actor=request.user, uid=uid, source=form.source_obj(),
                                 title=d["title"], extractor=d["extractor"], params=form.params(),
                                 resource_uid=resource_uid, request=request)
    except PortalError as exc:
        if (gone := gone_to_list(request, connection, uid, exc, form=form,
                            aliases=form.portal_aliases())) is not None:
            return gone
        return _render_draft(request, connection, uid, form, resource=resource)
    messages.success(request, f"Resource {saved.title or saved.uid} saved. Publish the dataset to apply it to the "
                              "data.")
    try:  # the catalogue row follows (updated_at)
        dataset_services.snapshot_refresh(connection=connection, uid=uid, with_status=False)
    except PortalError:
        pass
    return redirect(request, resource_url(connection, uid, saved.uid) if saved.uid else tab_url(connection, uid, TAB))


# ---------------------------------------------------------------------------------------------- one resource

def _resource_or_back(request, connection, uid: str, resource_uid: str):
    try:
        return rs.resource_read(connection=connection, uid=uid, resource_uid=resource_uid), None
    except PortalError as exc:
        return None, gone_to_list(request, connection, uid, exc) or redirect(request, tab_url(connection, uid, TAB))


@connection_view(VIEW)
@require_GET
def resource_detail(request, connection, uid: str, resource_uid: str):
    resource, back = _resource_or_back(request, connection, uid, resource_uid)
    if back is not None:
        return back
    source = rs.source_of(resource.datasource)
    file = rs.resource_file_read(connection=connection, uid=uid, datasource=resource.datasource)
    ctx = _ctx(connection, uid, resource=resource, source=source, file=file,
               params=[(k, {True: "yes", False: "no"}.get(v, v) if isinstance(v, bool) else v)
                       for k, v in rs.public_params(resource.params).items()], has_push_key=bool(push_key_of(resource)),
               is_realtime=resource.type == "realtime", enabled=resource.params.get("enabled"))
    return render_page(request, "datasets/resources/detail.html", ctx)


@connection_view(OPERATE)
@require_GET
def resource_edit(request, connection, uid: str, resource_uid: str):
    resource, back = _resource_or_back(request, connection, uid, resource_uid)
    if back is not None:
        return back
    source = rs.source_of(resource.datasource)
    if source is None:
        messages.error(request, "This resource's source cannot be edited here (it holds credentials, or is of a kind "
                                "edited on the portal); nothing was changed.")
        return redirect(request, resource_url(connection, uid, resource_uid))
    extractors = _extractors(request, connection)
    if resource.type not in {e.type for e in extractors}:
        extractors = [*extractors, _unknown_extractor(resource.type)]
    form = _bound_draft(extractors=extractors, source=source, title=resource.title, extractor=resource.type,
                        params=resource.params)
    return _render_draft(request, connection, uid, form, resource=resource)


@connection_view(OPERATE)
@require_POST
def resource_edit_guess(request, connection, uid: str, resource_uid: str):
    """Edit: ask the portal to guess again from the resource's saved source (its file may have changed); the
    title and source being edited are kept, the extractor and its parameters replaced by the guess."""
    form = DraftForm(request.POST, extractors=_extractors(request, connection),
                     extractor=request.POST.get("extractor", ""))
    resource = {"uid": resource_uid}
    if not form.is_valid():
        return _render_draft(request, connection, uid, form, resource=resource)
    try:
        extractor, params = rs.resource_guess_saved(connection=connection, uid=uid, resource_uid=resource_uid)
    except PortalError as exc:
        if (gone := gone_to_list(request, connection, uid, exc)) is not None:
            return gone
        return _render_draft(request, connection, uid, form, resource=resource)
    extractors = list(form.extractors.values())
    if extractor and extractor not in form.extractors:
        extractors.append(_unknown_extractor(extractor))
    messages.info(request, "The portal guessed again from the saved source: check the parameters and the preview.")
    draft = _bound_draft(extractors=extractors, source=form.source_obj(), title=form.cleaned_data["title"],
                         extractor=extractor or form.cleaned_data["extractor"], params=params)
    return _render_draft(request, connection, uid, draft, resource=resource)


def _action(action: str):
    @require_POST
    def view(request, connection, uid: str, resource_uid: str):
        try:
            rs.resource_action(connection=connection, actor=request.user, uid=uid, resource_uid=resource_uid,
                               action=action, request=request)
        except PortalError as exc:
            return gone_to_list(request, connection, uid, exc) or redirect(request, resource_url(connection, uid, resource_uid))
        messages.success(request, rs.ACTIONS[action][2])
        return redirect(request, resource_url(connection, uid, resource_uid))

    view.__name__ = f"resource_{action}"
    return view


resource_clean_cache = connection_view(OPERATE)(_action("clean_cache"))
resource_enable = connection_view(OPERATE)(_action("enable"))
resource_disable = connection_view(OPERATE)(_action("disable"))
resource_recover = connection_view(OPERATE)(_action("recover"))
resource_delete_recovered = connection_view(ADMIN)(_action("delete_recovered"))  # destroys data: admins only


def _push_key_slot(connection, uid: str, resource_uid: str) -> str:
    return f"push_key:{connection.pk}:{uid}:{resource_uid}"


@connection_view(ADMIN)  # the push key is a credential: whoever holds it writes into the dataset
@require_POST
@never_cache
def resource_renew_key(request, connection, uid: str, resource_uid: str):
    """Renew a realtime resource's push key, then redirect to the page that shows it this once (Post/Redirect/Get:
    a reload shows nothing again and never renews again). The key waits encrypted in the session (core/once.py),
    never in a URL, a message, a log or the audit."""
    try:
        key = rs.resource_push_key_renew(connection=connection, actor=request.user, uid=uid,
                                         resource_uid=resource_uid, request=request)
    except PortalError as exc:
        return gone_to_list(request, connection, uid, exc) or redirect(request, resource_url(connection, uid, resource_uid))
    once_keep(request, slot=_push_key_slot(connection, uid, resource_uid), secret=key)
    return redirect(request, reverse("datasets:resource_push_key",
                                     kwargs={"conn": connection.slug, "uid": uid, "resource_uid": resource_uid}))


@connection_view(ADMIN)
@require_GET
@never_cache  # no copy in the browser's cache: back/forward asks again and finds the key gone
def resource_push_key(request, connection, uid: str, resource_uid: str):
    """The renewed push key, shown once; afterwards (reload, back, another tab) the page says it was shown."""
    key = once_take(request, slot=_push_key_slot(connection, uid, resource_uid))
    state = "gone" if key is None else ("shown" if key else "missing")
    return render_page(request, "datasets/resources/push_key.html",
                       _ctx(connection, uid, resource_uid=resource_uid, key=key, state=state))


@connection_view(ADMIN)  # deleting a dataset's parts destroys work: admins only
@require_POST
def resource_delete(request, connection, uid: str, resource_uid: str):
    try:
        dataset_services.resource_delete(connection=connection, actor=request.user, uid=uid,
                                         resource_uid=resource_uid, request=request)
    except PortalError as exc:
        return write_failed(request, connection, uid, TAB, exc)
    messages.success(request, "Resource deleted.")
    return redirect(request, tab_url(connection, uid, TAB))


@connection_view(VIEW)
@require_GET
def resource_preview(request, connection, uid: str, resource_uid: str):
    try:
        data = remote.resource_preview_read(connection=connection, uid=uid, resource_uid=resource_uid)
    except PortalError as exc:
        if gone := gone_to_list(request, connection, uid, exc):
            return gone
        data = {"preview": None, "preview_rows": [], "preview_error": True}
    ctx = {"connection": connection, "uid": uid, "resource_uid": resource_uid, **data,
           "snapshot": snapshot_get(connection=connection, uid=uid)}
    return render_page(request, "datasets/preview.html", ctx, partial="preview")


# ---------------------------------------------------------------------------------------------- downloads

def _stream(download) -> StreamingHttpResponse:
    """Pass the portal's bytes on chunk by chunk (never the whole file in memory)."""
    response = StreamingHttpResponse(download.chunks, content_type=download.content_type)
    response["Content-Disposition"] = content_disposition_header(True, download.filename)
    if download.length is not None:
        response["Content-Length"] = str(download.length)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@connection_view(VIEW)
@require_http_methods(["GET", "HEAD"])
def resource_download(request, connection, uid: str, resource_uid: str):
    resource, back = _resource_or_back(request, connection, uid, resource_uid)
    if back is not None:
        return back
    file = resource.datasource.get("file") if resource.datasource.get("type") == "uploaded_file" else None
    file_uid = file.get("uid") if isinstance(file, dict) else None
    if not file_uid:
        messages.error(request, "Only an uploaded file can be downloaded here; this resource reads its data from "
                                f"{resource.display_name or 'elsewhere'}.")
        return redirect(request, resource_url(connection, uid, resource_uid))
    try:
        download = rs.resource_file_open(connection=connection, uid=uid, file_uid=file_uid)
    except PortalError as exc:
        portal_failure(request, connection, exc, uid=uid)
        return redirect(request, resource_url(connection, uid, resource_uid))
    return _stream(download)


@connection_view(VIEW)
@require_http_methods(["GET", "HEAD"])
def attachment_download(request, connection, uid: str, attachment_uid: str):
    try:
        download = rs.attachment_open(connection=connection, uid=uid, attachment_uid=attachment_uid)
    except PortalError as exc:
        return gone_to_list(request, connection, uid, exc) or redirect(request, tab_url(connection, uid, "attachments"))
    return _stream(download)
