"""Studio pages and code editor pages of one connection. Thin FBVs: role → form → one selector/service → page.

Roles: viewers read; operators create, edit, publish/unpublish, archive/unarchive and grant access;
admins also delete (pages, bulk deletes and rulesets: anything that sends a DELETE to the portal).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from portaladmin.core.htmx import redirect, render_page
from portaladmin.core.portalerrors import form_add_portal_errors, portal_error_message
from portaladmin.pages import selectors, services
from portaladmin.pages.content import COMMON_LANGUAGES, ISO_639_1
from portaladmin.pages.forms import (
    BulkDeleteForm,
    CodePageForm,
    RulesetForm,
    StudioPageForm,
    language_formset,
    posted_language_rows,
)
from portaladmin.pages.selectors import CODE, STUDIO
from portaladmin.portals.client.errors import PortalError, PortalNotFound
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.permissions import ADMIN, OPERATE, VIEW

PER_PAGE = 50


def _url(name: str, connection, **kwargs) -> str:
    return reverse(f"pages:{name}", kwargs={"conn": connection.slug, **kwargs})


def _paginate(request, rows):
    return Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))


# ------------------------------------------------------------------------------------------ lists


@vary_on_headers("HX-Request")
@connection_view(VIEW)
def page_list(request, connection):
    """Landing page, Studio pages tab."""
    rows, error = [], ""
    try:
        rows = selectors.studio_page_list(connection=connection)
    except PortalError as exc:
        error = str(exc)
    ctx = {"connection": connection, "tab": STUDIO, "page_obj": _paginate(request, rows), "portal_error": error,
           "querystring_base": ""}
    return render_page(request, "pages/list.html", ctx, partial="studio-table")


@vary_on_headers("HX-Request")
@connection_view(VIEW)
def code_list(request, connection):
    """Code editor pages tab: search (slug, title, description) and tag filter, plain GET or HTMX."""
    q, tag = request.GET.get("q", "").strip()[:200], request.GET.get("tag", "").strip()[:200]
    rows, tags, error = [], [], ""
    try:
        rows, tags = selectors.code_page_list(connection=connection, search=q, tag=tag)
    except PortalError as exc:
        error = str(exc)
    base = urlencode([(k, v) for k, v in (("q", q), ("tag", tag)) if v])
    ctx = {"connection": connection, "tab": CODE, "page_obj": _paginate(request, rows), "tags": tags, "q": q,
           "tag": tag, "portal_error": error, "querystring_base": (base + "&") if base else ""}
    return render_page(request, "pages/list.html", ctx, partial="code-table")


def _detail(request, connection, *, kind: str, key: str, load, read_access, template: str):
    """A page's detail (studio or code): the page, its access rules, the rule form; a portal error is shown."""
    ctx = {"connection": connection, "kind": kind, "key": key, "ruleset_form": RulesetForm(kind=kind)}
    try:
        ctx["row"] = row = load(connection, key)
    except PortalError as exc:
        return render(request, template, {**ctx, "portal_error": str(exc)})
    ctx["access"], ctx["access_error"] = _access(read_access, connection, row.page)
    return render(request, template, ctx)


# ------------------------------------------------------------------------------------------ studio pages


@connection_view(VIEW)
def studio_detail(request, connection, uid):
    return _detail(request, connection, kind=STUDIO, key=uid, load=_studio_or_404,
                   read_access=selectors.studio_page_access, template="pages/studio_detail.html")


@connection_view(OPERATE)
def studio_create(request, connection):
    form = StudioPageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            page = services.studio_page_create(connection=connection, actor=request.user, request=request,
                                               **form.cleaned_data)
        except PortalError as exc:
            form_add_portal_errors(form, exc)
        else:
            messages.success(request, f"Studio page {page.slug} created as a draft.")
            return redirect(request, _url("studio-detail", connection, uid=page.uid))
    return render(request, "pages/studio_form.html", {"connection": connection, "form": form, "creating": True})


@connection_view(OPERATE)
def studio_edit(request, connection, uid):
    try:
        row = _studio_or_404(connection, uid) if request.method == "GET" else None
    except PortalError as exc:
        messages.error(request, f"The portal could not be read: {exc}")
        return redirect(request, _url("list", connection))
    initial = {"slug": row.page.slug, "public": bool(row.page.public)} if row else None
    form = StudioPageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.studio_page_update(connection=connection, actor=request.user, uid=uid, request=request,
                                        **form.cleaned_data)
        except PortalNotFound as exc:
            raise Http404("No such studio page on the portal.") from exc
        except PortalError as exc:
            form_add_portal_errors(form, exc)
        else:
            messages.success(request, "Studio page saved.")
            return redirect(request, _url("studio-detail", connection, uid=uid))
    return render(request, "pages/studio_form.html",
                  {"connection": connection, "form": form, "creating": False, "uid": uid})


@require_POST
@connection_view(OPERATE)
def studio_publish(request, connection, uid):
    return _action(request, connection, services.studio_page_publish, uid=uid, done="Studio page published.",
                   back=_url("studio-detail", connection, uid=uid))


@require_POST
@connection_view(OPERATE)
def studio_unpublish(request, connection, uid):
    return _action(request, connection, services.studio_page_unpublish, uid=uid,
                   done="Studio page unpublished: it is a draft again.", back=_url("studio-detail", connection, uid=uid))


@require_POST
@connection_view(ADMIN)
def studio_delete(request, connection, uid):
    return _action(request, connection, services.studio_page_delete, uid=uid, done="Studio page deleted.",
                   back=_url("studio-detail", connection, uid=uid), then=_url("list", connection))


# ------------------------------------------------------------------------------------------ code editor pages


@connection_view(VIEW)
def code_detail(request, connection, slug):
    return _detail(request, connection, kind=CODE, key=slug, load=_code_or_404,
                   read_access=selectors.code_page_access, template="pages/code_detail.html")


@connection_view(OPERATE)
def code_create(request, connection):
    if request.method == "POST":
        return _code_post(request, connection, slug=None)
    return _code_form_page(request, connection, None, CodePageForm(), language_formset(initial=[{"language": "en"}]))


@connection_view(OPERATE)
def code_edit(request, connection, slug):
    if request.method == "POST":
        return _code_post(request, connection, slug=slug)
    try:
        row = _code_or_404(connection, slug)
    except PortalError as exc:
        messages.error(request, f"The portal could not be read: {exc}")
        return redirect(request, _url("code-list", connection))
    if row.page.is_archived:
        messages.warning(request, "An archived page cannot be edited: unarchive it first.")
        return redirect(request, _url("code-detail", connection, slug=slug))
    p = row.page
    form = CodePageForm(initial={"slug": p.slug, "description": p.description, "template": p.template or "",
                                 "tags": ", ".join(p.tags), "is_restricted": bool(p.is_restricted)})
    return _code_form_page(request, connection, slug, form, language_formset(initial=row.languages or [{"language": "en"}]))


def _code_post(request, connection, *, slug: str | None):
    """Save (create when slug is None), or, for "add a language", show the form again with one more block."""
    if "add_language" in request.POST:
        form = CodePageForm(initial=_posted_initial(request.POST))
        formset = language_formset(initial=posted_language_rows(request.POST), add=1)
        return _code_form_page(request, connection, slug, form, formset)
    form, formset = CodePageForm(request.POST), language_formset(request.POST)
    if form.is_valid() and formset.is_valid():
        body = services.code_page_body(languages=formset.languages(), **form.cleaned_data)
        try:
            page = services.code_page_save(connection=connection, actor=request.user, slug=slug, body=body,
                                           request=request)
        except PortalNotFound as exc:
            raise Http404("No such code editor page on the portal.") from exc
        except PortalError as exc:
            form_add_portal_errors(form, exc)
        else:
            messages.success(request, f"Code editor page {page.slug} saved.")
            return redirect(request, _url("code-detail", connection, slug=page.slug))
    return _code_form_page(request, connection, slug, form, formset)


def _code_form_page(request, connection, slug, form, formset):
    ctx = {"connection": connection, "form": form, "formset": formset, "slug": slug, "creating": slug is None,
           "common_languages": COMMON_LANGUAGES, "all_languages": sorted(ISO_639_1 - set(COMMON_LANGUAGES))}
    return render(request, "pages/code_form.html", ctx)


@require_POST
@connection_view(OPERATE)
def code_archive(request, connection, slug):
    return _action(request, connection, services.code_page_archive, slug=slug,
                   done="Page archived: it no longer counts in the licence quota and is hidden from users.",
                   back=_url("code-detail", connection, slug=slug))


@require_POST
@connection_view(OPERATE)
def code_unarchive(request, connection, slug):
    return _action(request, connection, services.code_page_unarchive, slug=slug, done="Page unarchived.",
                   back=_url("code-detail", connection, slug=slug))


@require_POST
@connection_view(ADMIN)
def code_delete(request, connection, slug):
    return _action(request, connection, services.code_page_delete, slug=slug, done=f"Page {slug} deleted.",
                   back=_url("code-detail", connection, slug=slug), then=_url("code-list", connection))


@require_POST
@connection_view(ADMIN)
def code_bulk_delete(request, connection):
    form = BulkDeleteForm(request.POST)
    back = _url("code-list", connection)
    if not form.is_valid():
        messages.error(request, "Select at least one page to delete.")
        return redirect(request, back)
    asked = form.cleaned_data["slug"]
    try:
        deleted = services.code_page_bulk_delete(connection=connection, actor=request.user, slugs=asked,
                                                 request=request)
    except PortalError as exc:
        messages.error(request, f"Nothing was deleted: {exc}")
        return redirect(request, back)
    if deleted:
        messages.success(request, f"Deleted {len(deleted)} page(s): {', '.join(deleted)}.")
    if missed := [s for s in asked if s not in deleted]:
        messages.warning(request, f"Not deleted (not found or refused): {', '.join(missed)}.")
    return redirect(request, back)


# ------------------------------------------------------------------------------------------ rulesets


@require_POST
@connection_view(OPERATE)
def ruleset_save(request, connection, kind, key):
    back = _detail_url(connection, kind, key)
    form = RulesetForm(request.POST, kind=kind)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{'' if field == '__all__' else field + ': '}{' '.join(errors)}")
        return redirect(request, back)
    data = form.cleaned_data
    try:
        services.page_ruleset_save(connection=connection, actor=request.user, kind=kind, key=key,
                                   target_kind=data["target_kind"], target=data["target"],
                                   permissions=data["permissions"], request=request)
    except PortalError as exc:
        messages.error(request, f"Access not changed: {exc}")
    else:
        grants = ", ".join(data["permissions"]) or "see only"
        messages.success(request, f"{data['target_kind'].title()} {data['target']}: {grants}.")
    return redirect(request, back)


@require_POST
@connection_view(ADMIN)
def ruleset_delete(request, connection, kind, key, target_kind, target):
    if target_kind not in ("user", "group"):
        raise Http404("No such ruleset kind.")
    return _action(request, connection, services.page_ruleset_delete, kind=kind, key=key, target_kind=target_kind,
                   target=target, done=f"Access of {target_kind} {target} removed.",
                   back=_detail_url(connection, kind, key))


# ------------------------------------------------------------------------------------------ helpers


def _action(request, connection, service, *, done: str, back: str, then: str | None = None, **kwargs):
    """Run one remote action; success → message + `then` (or `back`), failure → the portal's message + `back`."""
    try:
        service(connection=connection, actor=request.user, request=request, **kwargs)
    except PortalError as exc:
        messages.error(request, portal_error_message(exc, wrote=True))
        return redirect(request, back)
    messages.success(request, done)
    return redirect(request, then or back)


def _studio_or_404(connection, uid):
    """The page, Http404 when the portal does not know it; other PortalErrors propagate."""
    try:
        return selectors.studio_page_get(connection=connection, uid=uid)
    except PortalNotFound as exc:
        raise Http404("No such studio page on the portal.") from exc


def _code_or_404(connection, slug):
    try:
        return selectors.code_page_get(connection=connection, slug=slug)
    except PortalNotFound as exc:
        raise Http404("No such code editor page on the portal.") from exc


def _access(selector, connection, page):
    try:
        return selector(connection=connection, page=page), ""
    except PortalError as exc:
        return None, str(exc)


def _detail_url(connection, kind, key):
    return _url("studio-detail", connection, uid=key) if kind == STUDIO else _url("code-detail", connection, slug=key)


def _posted_initial(data) -> dict:
    fields = ("slug", "description", "template", "tags")
    return {**{f: data.get(f, "") for f in fields}, "is_restricted": bool(data.get("is_restricted"))}
