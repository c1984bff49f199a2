from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portaladmin.accounts.forms import TeamUserCreateForm
from portaladmin.audit.services import audit_record
from portaladmin.core.decorators import superuser_required as superuser_required_for
from portaladmin.portals.services import add_connection_permission, connection_adder_set

superuser_required = superuser_required_for("Only superusers manage the team.")


@superuser_required
def users(request):
    form = TeamUserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        audit_record(action="team.user_created", actor=request.user, target=user.username, request=request,
                     extra={"superuser": user.is_superuser})
        messages.success(request, f"User {user.username} created. Give them roles on connections' member pages.")
        return redirect("accounts:users")
    people = get_user_model().objects.order_by("username").prefetch_related("memberships__connection")
    permission = add_connection_permission()
    adders = set(get_user_model().objects.filter(Q(user_permissions=permission) | Q(groups__permissions=permission))
                 .values_list("pk", flat=True))
    return render(request, "accounts/users.html", {"people": people, "form": form, "adders": adders})


@superuser_required
@require_POST
def user_toggle_active(request, pk: int):
    person = get_object_or_404(get_user_model(), pk=pk)
    if person == request.user:
        messages.error(request, "You cannot deactivate yourself.")
        return redirect("accounts:users")
    person.is_active = not person.is_active
    person.save(update_fields=["is_active"])
    action = "team.user_activated" if person.is_active else "team.user_deactivated"
    audit_record(action=action, actor=request.user, target=person.username, request=request)
    messages.success(request, f"{person.username} is now {'active' if person.is_active else 'deactivated'}.")
    return redirect("accounts:users")


@superuser_required
@require_POST
def user_toggle_add_connections(request, pk: int):
    person = get_object_or_404(get_user_model(), pk=pk)
    if person.is_superuser:
        messages.info(request, f"{person.username} is a superuser and can always add connections.")
        return redirect("accounts:users")
    allowed = request.POST.get("allowed") == "1"
    connection_adder_set(user=person, allowed=allowed, actor=request.user, request=request)
    messages.success(request, f"{person.username} {'can now' if allowed else 'can no longer'} add connections.")
    return redirect("accounts:users")
