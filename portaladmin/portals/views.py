from django.contrib import messages
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from portaladmin.audit.models import AuditEvent
from portaladmin.core.htmx import redirect, render_page
from portaladmin.portals import services
from portaladmin.portals.decorators import connection_view
from portaladmin.portals.forms import ConnectionForm, MembershipForm, RoleChangeForm
from portaladmin.portals.models import Membership, Role
from portaladmin.portals.permissions import (
    ADMIN,
    VIEW,
    connections_visible_to,
    require_can_add_connection,
    role_for,
)


def connection_list(request):
    connections = list(connections_visible_to(request.user))
    for c in connections:
        c.my_role = role_for(request.user, c)
    return render(request, "portals/list.html", {"connections": connections})


def connection_create(request):
    require_can_add_connection(request.user)
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        connection = services.connection_create(form=form, actor=request.user, request=request)
        messages.success(request, f"Connection {connection.name} added. Test it to check the key.")
        return redirect(request, connection.get_absolute_url())
    return render(request, "portals/form.html", {"form": form, "creating": True})


@connection_view(VIEW)
def connection_detail(request, connection):
    events = AuditEvent.objects.filter(connection=connection).select_related("actor")[:15]
    return render(request, "portals/detail.html", {"connection": connection, "events": events})


@connection_view(ADMIN)
def connection_edit(request, connection):
    form = ConnectionForm(request.POST or None, instance=connection)
    if request.method == "POST" and form.is_valid():
        services.connection_update(form=form, actor=request.user, request=request)
        messages.success(request, "Connection saved." + (" The new key is stored encrypted." if form.key_replaced else ""))
        return redirect(request, connection.get_absolute_url())
    return render(request, "portals/form.html", {"form": form, "connection": connection, "creating": False})


@require_POST
@connection_view(ADMIN)
def connection_delete(request, connection):
    if request.POST.get("confirm_slug", "") != connection.slug:
        messages.error(request, f"Type the connection's slug ({connection.slug}) to confirm deletion.")
        return redirect(request, connection.get_absolute_url())
    name = connection.name
    services.connection_delete(connection=connection, actor=request.user, request=request)
    messages.success(request, f"Connection {name} deleted. Nothing was changed on the portal.")
    return redirect(request, reverse("portals:list"))


@require_POST
@connection_view(VIEW)
def connection_test(request, connection):
    services.connection_test(connection=connection, actor=request.user, request=request)
    return render_page(request, "portals/detail.html", {"connection": connection}, partial="health")


@connection_view(ADMIN)
def member_list(request, connection):
    form = MembershipForm(request.POST or None, connection=connection)
    if request.method == "POST" and form.is_valid():
        services.membership_add(connection=connection, user=form.cleaned_data["user"], role=form.cleaned_data["role"],
                                actor=request.user, request=request)
        messages.success(request, f"{form.cleaned_data['username']} is now {form.cleaned_data['role']} here.")
        return redirect(request, reverse("portals:members", kwargs={"conn": connection.slug}))
    memberships = connection.memberships.select_related("user")
    return render_page(request, "portals/members.html",
                       {"connection": connection, "memberships": memberships, "form": form, "roles": Role.choices}, partial="members")


@require_POST
@connection_view(ADMIN)
def member_change(request, connection, pk):
    membership = get_object_or_404(Membership, pk=pk, connection=connection)
    form = RoleChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose viewer, operator or admin.")
    elif problem := services.last_admin_guard(membership, form.cleaned_data["role"]):
        messages.error(request, problem)
    else:
        services.membership_change(membership=membership, role=form.cleaned_data["role"], actor=request.user,
                                   request=request)
        messages.success(request, f"{membership.user.username} is now {membership.role}.")
    return redirect(request, reverse("portals:members", kwargs={"conn": connection.slug}))


@require_POST
@connection_view(ADMIN)
def member_remove(request, connection, pk):
    membership = get_object_or_404(Membership, pk=pk, connection=connection)
    if problem := services.last_admin_guard(membership, None):
        messages.error(request, problem)
    else:
        services.membership_remove(membership=membership, actor=request.user, request=request)
        messages.success(request, f"{membership.user.username} no longer has a role here.")
    return redirect(request, reverse("portals:members", kwargs={"conn": connection.slug}))
