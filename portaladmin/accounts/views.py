from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from portaladmin.accounts import selectors, services
from portaladmin.accounts.forms import TeamUserCreateForm, TeamUserEditForm, TimeZoneForm
from portaladmin.accounts.middleware import SESSION_KEY as TIME_ZONE_KEY
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
    people = list(get_user_model().objects.order_by("username").prefetch_related("memberships__connection"))
    lockouts = selectors.lockouts_by_username()
    for person in people:
        person.lockout = lockouts.get(person.username)
    permission = add_connection_permission()
    adders = set(get_user_model().objects.filter(Q(user_permissions=permission) | Q(groups__permissions=permission))
                 .values_list("pk", flat=True))
    return render(request, "accounts/users.html", {"people": people, "form": form, "adders": adders})


@superuser_required
def user_detail(request, pk: int):
    """One member: edit name and e-mail (POST here), set a password, unlock, deactivate."""
    person = get_object_or_404(get_user_model(), pk=pk)
    form = TeamUserEditForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        # A valid ModelForm has already copied its values onto `person`: compare against the stored row.
        stored = get_user_model().objects.get(pk=pk)
        changed = services.user_update(actor=request.user, person=stored, request=request, **form.cleaned_data)
        messages.success(request, f"{person.username}: {', '.join(changed).replace('_', ' ')} saved."
                         if changed else "Nothing changed.")
        return redirect("accounts:user", pk=pk)
    return _user_page(request, person, form=form)


def _user_page(request, person, *, form=None, password_form=None, status=200):
    return render(request, "accounts/user.html", {
        "person": person, "form": form or TeamUserEditForm(instance=person),
        "password_form": password_form or SetPasswordForm(person),
        "lockout": selectors.lockouts_by_username().get(person.username),
    }, status=status)


@superuser_required
@require_POST
def user_set_password(request, pk: int):
    person = get_object_or_404(get_user_model(), pk=pk)
    if person == request.user:  # my own password needs my current one: the "Change my password" page
        messages.error(request, "Change your own password on your account page (it asks for the current one).")
        return redirect("password_change")
    form = SetPasswordForm(person, request.POST)
    if not form.is_valid():
        return _user_page(request, person, password_form=form, status=200)
    services.user_set_password(actor=request.user, person=person, password=form.cleaned_data["new_password1"],
                               request=request)
    messages.success(request, f"New password set for {person.username}; their open sessions are closed.")
    return redirect("accounts:user", pk=pk)


@superuser_required
@require_POST
def user_unlock(request, pk: int):
    person = get_object_or_404(get_user_model(), pk=pk)
    services.user_unlock(actor=request.user, person=person, request=request)
    messages.success(request, f"{person.username} can log in again.")
    if request.POST.get("back") == "team":
        return redirect("accounts:users")
    return redirect("accounts:user", pk=pk)


@superuser_required
@require_POST
def user_toggle_active(request, pk: int):
    person = get_object_or_404(get_user_model(), pk=pk)
    try:
        services.user_set_active(actor=request.user, person=person, active=not person.is_active, request=request)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("accounts:users")
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


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change my own password; the session stays open (Django updates its hash), the change is audited."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("password_change")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("tz_form", TimeZoneForm(initial={"time_zone": services.time_zone_get(user=self.request.user)}))
        return ctx

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record(action="auth.password_changed", actor=self.request.user, target=self.request.user.username,
                     request=self.request)
        messages.success(self.request, "Your password was changed.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link. Same answer whether or not the address is known; throttled per address and per IP."""

    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        if not services.password_reset_request(email=form.cleaned_data["email"], request=self.request):
            form.add_error(None, "Too many reset requests from here or for this address. Try again in an hour.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return redirect(self.success_url)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_reset_done(person=form.user, request=self.request)
        return response


@require_POST
def time_zone_set(request):
    """My time zone (on my account page): every page shows times in it from the next request on."""
    form = TimeZoneForm(request.POST)
    if not form.is_valid():
        return render(request, "accounts/password_change.html",
                      {"form": PasswordChangeForm(request.user), "tz_form": form}, status=400)
    services.time_zone_set(user=request.user, time_zone=form.cleaned_data["time_zone"])
    request.session[TIME_ZONE_KEY] = form.cleaned_data["time_zone"]
    messages.success(request, f"Times are now shown in {form.cleaned_data['time_zone']}.")
    return redirect("password_change")
