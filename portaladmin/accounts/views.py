from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portaladmin.accounts.forms import TeamUserCreateForm
from portaladmin.audit.services import audit_record
from portaladmin.core.decorators import superuser_required as superuser_required_for

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
    return render(request, "accounts/users.html", {"people": people, "form": form})


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
