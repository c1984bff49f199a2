from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portaladmin.accounts.forms import TeamUserCreateForm
from portaladmin.audit.services import audit_record


def superuser_required(view):
    """403 for everyone else. (user_passes_test sent a logged-in non-superuser to the log-in page, which sends
    logged-in people back: an endless redirect loop.) Anonymous people never get here: LoginRequiredMiddleware."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_active and request.user.is_superuser):
            raise PermissionDenied("Only superusers manage the team.")
        return view(request, *args, **kwargs)

    return wrapped


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
