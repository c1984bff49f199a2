"""Users and groups of one connection: thin FBVs (role → form → one selector/service → page or partial)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from portaladmin.core.bodylimit import accepts_upload
from portaladmin.core.csvout import csv_response, csv_streaming_response
from portaladmin.core.htmx import redirect, render_page
from portaladmin.core.portalerrors import form_add_portal_errors, portal_error_message, portal_page
from portaladmin.people import selectors, services
from portaladmin.people.forms import (
    MAX_UPLOAD_BYTES,
    AddMemberForm,
    AddToGroupForm,
    BatchAddForm,
    ConfirmRemoveForm,
    ExportForm,
    GroupFilterForm,
    GroupForm,
    InviteForm,
    LimitsForm,
    PermissionsForm,
    ProvisionForm,
    UserFilterForm,
)
from portaladmin.people.models import DraftKind, RowsDraft
from portaladmin.people.rows import InputError
from portaladmin.portals.client.errors import PortalError, PortalNotFound, PortalValidationError
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.models import Connection
from portaladmin.portals.permissions import ADMIN, OPERATE, VIEW, connections_visible_to, has_role

PREVIEW_LIMIT = 1000


def _query_without(request, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


# --- users -----------------------------------------------------------------------------------------------

@connection_view(VIEW)
def user_list(request, connection: Connection):
    form = UserFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page, error = None, ""
    try:
        page = selectors.user_list(connection=connection, search=filters.get("search", ""),
                                   sort=filters.get("sort", ""), permissions=filters.get("permissions") or [],
                                   include_group_permissions=bool(filters.get("via_groups")),
                                   limit=filters.get("limit") or 25, offset=filters.get("offset") or 0)
    except PortalError as exc:
        error = str(exc)
    ctx = {"form": form, "page": page, "error": error, "query": _query_without(request, "offset"),
           "export_form": ExportForm()}
    return render_page(request, "people/users.html", ctx, partial="user-table")


@connection_view(VIEW)
def user_export(request, connection: Connection):
    form = ExportForm(request.GET)
    delimiter = form.cleaned_data["delimiter"] if form.is_valid() else ","
    try:
        rows = selectors.user_export_rows(connection=connection, delimiter=delimiter)
    except PortalError as exc:
        messages.error(request, f"The export failed: {exc}")
        return redirect(request, reverse("people:users", kwargs={"conn": connection.slug}))
    return csv_streaming_response(rows, filename=f"{connection.slug}-users.csv", delimiter=delimiter)


def _user_page(request, connection: Connection, username: str, *, status: int = 200, **forms):
    try:
        user = selectors.user_get(connection=connection, username=username)
    except PortalNotFound:
        raise Http404("No such user on this portal.") from None
    groups, groups_error = [], ""
    try:
        groups = selectors.group_all(connection=connection)
    except PortalError as exc:
        groups_error = str(exc)
    member_of = {g.get("uid") for g in user.groups}
    titles = {g.uid: g.title for g in groups}
    limits = (user.raw.get("explore_limits") or {}).get("api_calls") or {}
    ctx = {
        "u": user,
        "user_groups": [{"uid": g.get("uid"), "title": titles.get(g.get("uid")) or g.get("title") or g.get("uid")}
                        for g in user.groups],
        "groups_error": groups_error,
        "explore_limits": limits,
        "permissions_form": forms.get("permissions_form") or PermissionsForm(
            initial={"permissions": user.permissions}),
        "limits_form": forms.get("limits_form") or LimitsForm(
            initial={"api_calls_limit": limits.get("limit"), "api_calls_unit": limits.get("unit") or "day"}),
        "group_form": forms.get("group_form") or AddToGroupForm(groups=[g for g in groups if g.uid not in member_of]),
        "remove_form": forms.get("remove_form") or ConfirmRemoveForm(expected=user.username),
    }
    return render(request, "people/user_detail.html", ctx, status=status)


@connection_view(VIEW)
@portal_page()
def user_detail(request, connection: Connection, username: str):
    return _user_page(request, connection, username)


def _back_to_user(request, connection, username):
    return redirect(request, reverse("people:user", kwargs={"conn": connection.slug, "username": username}))


@require_POST
@connection_view(OPERATE)
@portal_page()
def user_permissions(request, connection: Connection, username: str):
    form = PermissionsForm(request.POST)
    if form.is_valid():
        try:
            services.user_permissions_update(connection=connection, actor=request.user, username=username,
                                             permissions=form.cleaned_data["permissions"], request=request)
        except PortalError as exc:
            form_add_portal_errors(form, exc)
        else:
            messages.success(request, f"Permissions of {username} saved.")
            return _back_to_user(request, connection, username)
    return _user_page(request, connection, username, permissions_form=form)


@require_POST
@connection_view(OPERATE)
@portal_page()
def user_limits(request, connection: Connection, username: str):
    form = LimitsForm(request.POST)
    if form.is_valid():
        try:
            services.user_limits_update(connection=connection, actor=request.user, username=username,
                                        api_calls_limit=form.cleaned_data["api_calls_limit"],
                                        api_calls_unit=form.cleaned_data["api_calls_unit"], request=request)
        except PortalError as exc:
            form_add_portal_errors(form, exc)
        else:
            messages.success(request, f"Explore limits of {username} saved.")
            return _back_to_user(request, connection, username)
    return _user_page(request, connection, username, limits_form=form)


@require_POST
@connection_view(OPERATE)
def user_group_add(request, connection: Connection, username: str):
    group_uid = request.POST.get("group_uid", "").strip()
    if not group_uid:
        messages.error(request, "Choose a group.")
        return _back_to_user(request, connection, username)
    try:
        services.group_member_add(connection=connection, actor=request.user, group_uid=group_uid,
                                  username=username, request=request)
    except PortalError as exc:
        messages.error(request, f"Not added to {group_uid}: {exc}")
    else:
        messages.success(request, f"{username} added to {group_uid}.")
    return _back_to_user(request, connection, username)


@require_POST
@connection_view(OPERATE)
def user_group_remove(request, connection: Connection, username: str, group_uid: str):
    try:
        services.group_member_remove(connection=connection, actor=request.user, group_uid=group_uid,
                                     username=username, request=request)
    except PortalError as exc:
        messages.error(request, f"Not removed from {group_uid}: {exc}")
    else:
        messages.success(request, f"{username} removed from {group_uid}.")
    return _back_to_user(request, connection, username)


@require_POST
@connection_view(ADMIN)
@portal_page()
def user_remove(request, connection: Connection, username: str):
    form = ConfirmRemoveForm(request.POST, expected=username)
    if not form.is_valid():
        return _user_page(request, connection, username, remove_form=form)
    try:
        services.user_remove(connection=connection, actor=request.user, username=username, request=request)
    except PortalError as exc:
        messages.error(request, f"The portal refused to remove {username}: {exc}")  # e.g. the last administrator
        return _back_to_user(request, connection, username)
    messages.success(request, f"{username} was removed from {connection.name}.")
    return redirect(request, reverse("people:users", kwargs={"conn": connection.slug}))


@require_http_methods(["GET", "POST"])
@connection_view(OPERATE)
def user_provision(request, connection: Connection):
    try:
        groups = selectors.group_all(connection=connection)
    except PortalError as exc:
        groups = []
        messages.warning(request, f"The portal's groups could not be read: {exc}")
    form = ProvisionForm(request.POST or None, groups=groups)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.user_provision(connection=connection, actor=request.user, body=form.body(),
                                             request=request)
        except PortalError as exc:
            form_add_portal_errors(form, exc)
        else:
            if result.ok:
                user = result.user
                messages.success(request, f"Account {user.username if user else form.cleaned_data['email']} "
                                          "provisioned.")
                return redirect(request, reverse("people:users", kwargs={"conn": connection.slug}))
            error = result.error if isinstance(result.error, dict) else {}
            detail = error.get("detail") if isinstance(error.get("detail"), dict) else None
            if detail:
                form_add_portal_errors(form, PortalValidationError(result.message, detail=detail))
            else:
                form.add_error(None, f"The portal refused it: {result.message}")
    return render(request, "people/provision.html", {"form": form, "result": result})


# --- bulk invite -----------------------------------------------------------------------------------------

def _other_operator_connections(user, connection: Connection):
    ids = [c.pk for c in connections_visible_to(user).exclude(pk=connection.pk) if has_role(user, c, OPERATE)]
    return Connection.objects.filter(pk__in=ids).order_by("name")


@accepts_upload(max_bytes=lambda: MAX_UPLOAD_BYTES)
@require_http_methods(["GET", "POST"])
@connection_view(OPERATE)
def user_invite(request, connection: Connection):
    others = _other_operator_connections(request.user, connection)
    form = InviteForm(request.POST or None, request.FILES or None, other_connections=others)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("file")
        try:
            draft = services.invite_preview(actor=request.user, connection=connection,
                                            connections=list(form.cleaned_data.get("also") or []),
                                            text=form.cleaned_data.get("text"),
                                            data=upload.read() if upload else None)
        except InputError as exc:
            form.add_error("file" if upload else "text", str(exc))
        except PortalError as exc:
            form.add_error(None, f"The portal's groups could not be read, so nothing can be checked: {exc}")
        else:
            return redirect(request, reverse("people:invite_preview",
                                              kwargs={"conn": connection.slug, "draft_id": draft.pk}))
    return render(request, "people/invite.html", {"form": form})


def _draft(request, connection: Connection, draft_id, kind: str) -> RowsDraft:
    try:
        draft = services.draft_get(actor=request.user, draft_id=draft_id, kind=kind)
    except RowsDraft.DoesNotExist:
        raise Http404("This preview no longer exists.") from None
    if draft.connection_id != connection.pk:
        raise Http404("This preview belongs to another connection.")
    return draft


def _preview_ctx(draft: RowsDraft, confirm_url: str, back_url: str, rows_url: str) -> dict:
    return {"draft": draft, "connections": list(draft.connections.all()),
            "rows": draft.rows[:PREVIEW_LIMIT], "rows_more": max(0, len(draft.rows) - PREVIEW_LIMIT),
            "rejected": draft.rejected[:PREVIEW_LIMIT], "rejected_more": max(0, len(draft.rejected) - PREVIEW_LIMIT),
            "confirm_url": confirm_url, "back_url": back_url, "rows_url": rows_url}


@connection_view(OPERATE)
def invite_preview(request, connection: Connection, draft_id):
    draft = _draft(request, connection, draft_id, DraftKind.INVITE)
    kw = {"conn": connection.slug, "draft_id": draft.pk}
    ctx = _preview_ctx(draft, reverse("people:invite_confirm", kwargs=kw),
                       reverse("people:invite", kwargs={"conn": connection.slug}),
                       reverse("people:invite_rows", kwargs=kw))
    if not draft.job:
        ctx.update(_already_members(ctx["connections"], ctx["rows"]))
    return render(request, "people/invite_preview.html", ctx)


def _already_members(connections: list[Connection], rows: list[dict]) -> dict:
    """Rows whose address already is a member (the portal refuses to invite them): one read of each portal's users.
    A portal that cannot be read is said, and the preview still works."""
    members: dict[str, list[str]] = {}
    errors = []
    for conn in connections:
        try:
            emails = selectors.member_emails(connection=conn)
        except PortalError as exc:
            errors.append(f"{conn.name}: {portal_error_message(exc)}")
            continue
        for row in rows:
            if row["target"].strip().lower() in emails:
                members.setdefault(row["target"].strip().lower(), []).append(conn.name)
    rows = [{**row, "member_of": members.get(row["target"].strip().lower(), [])} for row in rows]
    return {"rows": rows, "already_members": len(members), "members_check_errors": errors}


@connection_view(OPERATE)
def invite_rows_csv(request, connection: Connection, draft_id):
    """The whole preview as CSV: every row to send and every rejected row with its reasons."""
    draft = _draft(request, connection, draft_id, DraftKind.INVITE)
    return _rows_csv(draft, f"invite-{str(draft.pk)[:8]}.csv")


def _rows_csv(draft: RowsDraft, filename: str) -> HttpResponse:
    rows = [["line", "value", "status", "details"]]
    rows += [[row["line"], row["target"], "to send", row.get("label", "")] for row in draft.rows]
    rows += [[row["line"], row["value"], "rejected", " ".join(row["errors"])] for row in draft.rejected]
    return csv_response(rows, filename=filename)


@require_POST
@connection_view(OPERATE)
def invite_confirm(request, connection: Connection, draft_id):
    draft = _draft(request, connection, draft_id, DraftKind.INVITE)
    return _start(request, connection, draft, reverse("people:invite", kwargs={"conn": connection.slug}))


def _start(request, connection, draft, back_url):
    try:
        job = services.draft_start(actor=request.user, draft=draft, request=request)
    except ValueError as exc:
        messages.warning(request, str(exc))
        return redirect(request, back_url)
    messages.success(request, f"Job #{job.pk} started: {job.title}.")
    return redirect(request, job.get_absolute_url())


# --- groups ----------------------------------------------------------------------------------------------

@connection_view(VIEW)
def group_list(request, connection: Connection):
    form = GroupFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page, error = None, ""
    try:
        page = selectors.group_list(connection=connection, search=filters.get("search", ""),
                                    sort=filters.get("sort", ""), limit=filters.get("limit") or 25,
                                    offset=filters.get("offset") or 0)
    except PortalError as exc:
        error = str(exc)
    ctx = {"form": form, "page": page, "error": error, "query": _query_without(request, "offset")}
    return render_page(request, "people/groups.html", ctx, partial="group-table")


@require_http_methods(["GET", "POST"])
@connection_view(OPERATE)
def group_create(request, connection: Connection):
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(connection=connection, actor=request.user, request=request,
                                          **form.cleaned_data)
        except PortalError as exc:
            form_add_portal_errors(form, exc)
        else:
            messages.success(request, f"Group {group.title} created.")
            return redirect(request, reverse("people:group", kwargs={"conn": connection.slug, "group_uid": group.uid}))
    return render(request, "people/group_form.html", {"form": form, "group": None})


def _group_or_404(connection, group_uid):
    try:
        return selectors.group_get(connection=connection, group_uid=group_uid)
    except PortalNotFound:
        raise Http404("No such group on this portal.") from None


@connection_view(VIEW)
@portal_page()
def group_detail(request, connection: Connection, group_uid: str):
    group = _group_or_404(connection, group_uid)
    members, error = None, ""
    try:
        members = selectors.group_members(connection=connection, group_uid=group_uid)
    except PortalError as exc:
        error = str(exc)
    return render(request, "people/group_detail.html", {"group": group, "members": members, "error": error,
                                                         "member_form": AddMemberForm()})


@require_http_methods(["GET", "POST"])
@connection_view(OPERATE)
@portal_page()
def group_edit(request, connection: Connection, group_uid: str):
    group = _group_or_404(connection, group_uid)
    initial = {"title": group.title, "description": group.description, "permissions": group.permissions}
    form = GroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(connection=connection, actor=request.user, group_uid=group_uid, request=request,
                                  **form.cleaned_data)
        except PortalError as exc:
            form_add_portal_errors(form, exc)
        else:
            messages.success(request, "Group saved.")
            return redirect(request, reverse("people:group", kwargs={"conn": connection.slug, "group_uid": group_uid}))
    return render(request, "people/group_form.html", {"form": form, "group": group})


@require_POST
@connection_view(ADMIN)
def group_delete(request, connection: Connection, group_uid: str):
    if request.POST.get("confirm", "").strip() != group_uid:
        messages.error(request, "Type the group's uid to confirm the deletion.")
        return redirect(request, reverse("people:group", kwargs={"conn": connection.slug, "group_uid": group_uid}))
    try:
        services.group_delete(connection=connection, actor=request.user, group_uid=group_uid, request=request)
    except PortalError as exc:
        messages.error(request, f"The group was not deleted: {exc}")
        return redirect(request, reverse("people:group", kwargs={"conn": connection.slug, "group_uid": group_uid}))
    messages.success(request, f"Group {group_uid} deleted.")
    return redirect(request, reverse("people:groups", kwargs={"conn": connection.slug}))


@require_POST
@connection_view(OPERATE)
def group_member_add(request, connection: Connection, group_uid: str):
    form = AddMemberForm(request.POST)
    url = reverse("people:group", kwargs={"conn": connection.slug, "group_uid": group_uid})
    if not form.is_valid():
        messages.error(request, "Give a username.")
        return redirect(request, url)
    username = form.cleaned_data["username"].strip()
    try:
        services.group_member_add(connection=connection, actor=request.user, group_uid=group_uid,
                                  username=username, request=request)
    except PortalError as exc:
        messages.error(request, f"{username} was not added: {exc}")
    else:
        messages.success(request, f"{username} added to the group.")
    return redirect(request, url)


@require_POST
@connection_view(OPERATE)
def group_member_remove(request, connection: Connection, group_uid: str, username: str):
    try:
        services.group_member_remove(connection=connection, actor=request.user, group_uid=group_uid,
                                     username=username, request=request)
    except PortalError as exc:
        messages.error(request, f"{username} was not removed: {exc}")
    else:
        messages.success(request, f"{username} removed from the group.")
    return redirect(request, reverse("people:group", kwargs={"conn": connection.slug, "group_uid": group_uid}))


@require_http_methods(["GET", "POST"])
@connection_view(OPERATE)
@portal_page()
def group_batch_add(request, connection: Connection, group_uid: str):
    group = _group_or_404(connection, group_uid)
    form = BatchAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            draft = services.batch_add_preview(actor=request.user, connection=connection, group_uid=group_uid,
                                               text=form.cleaned_data["text"])
        except InputError as exc:
            form.add_error("text", str(exc))
        except PortalError as exc:
            form.add_error(None, f"The portal's users could not be read: {exc}")
        else:
            return redirect(request, reverse("people:batch_preview", kwargs={
                "conn": connection.slug, "group_uid": group_uid, "draft_id": draft.pk}))
    return render(request, "people/batch_add.html", {"form": form, "group": group})


@connection_view(OPERATE)
def batch_preview(request, connection: Connection, group_uid: str, draft_id):
    draft = _draft(request, connection, draft_id, DraftKind.BATCH_ADD)
    if draft.group_uid != group_uid:
        raise Http404("This preview belongs to another group.")
    kw = {"conn": connection.slug, "group_uid": group_uid, "draft_id": draft.pk}
    ctx = _preview_ctx(draft, reverse("people:batch_confirm", kwargs=kw),
                       reverse("people:group_batch_add", kwargs={"conn": connection.slug, "group_uid": group_uid}),
                       reverse("people:batch_rows", kwargs=kw))
    return render(request, "people/invite_preview.html", ctx)


@connection_view(OPERATE)
def batch_rows_csv(request, connection: Connection, group_uid: str, draft_id):
    draft = _draft(request, connection, draft_id, DraftKind.BATCH_ADD)
    return _rows_csv(draft, f"batch-add-{str(draft.pk)[:8]}.csv")


@require_POST
@connection_view(OPERATE)
def batch_confirm(request, connection: Connection, group_uid: str, draft_id):
    draft = _draft(request, connection, draft_id, DraftKind.BATCH_ADD)
    back = reverse("people:group_batch_add", kwargs={"conn": connection.slug, "group_uid": group_uid})
    return _start(request, connection, draft, back)
