"""Account changes made by superusers on the Team page, and the password-reset request. Every change is audited."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from portaladmin.audit.services import audit_record, client_ip
from portaladmin.core.ratelimit import ratelimit_hit

User = get_user_model()


def user_update(*, actor, person, first_name: str, last_name: str, email: str, request=None) -> list[str]:
    """Set a member's name and e-mail; returns the names of the fields that changed (nothing audited if none)."""
    new = {"first_name": first_name, "last_name": last_name, "email": email}
    changes = {field: {"old": getattr(person, field), "new": value} for field, value in new.items()
               if getattr(person, field) != value}
    if changes:
        for field, change in changes.items():
            setattr(person, field, change["new"])
        person.save(update_fields=list(changes))
        audit_record(action="team.user_updated", actor=actor, target=person.username, request=request,
                     extra={"changes": changes})
    return list(changes)


def user_set_password(*, actor, person, password: str, request=None) -> None:
    """A superuser sets a member's password. Their open sessions end (the session hash changes) and any
    log-in lock-out on their name is lifted, since they are going to try the new password."""
    person.set_password(password)
    person.save(update_fields=["password"])
    _axes_reset(person.username)
    audit_record(action="team.password_set", actor=actor, target=person.username, request=request)


def user_set_active(*, actor, person, active: bool, request=None) -> None:
    if person.pk == actor.pk:
        raise ValueError("You cannot deactivate yourself.")
    person.is_active = active
    person.save(update_fields=["is_active"])
    audit_record(action="team.user_activated" if active else "team.user_deactivated", actor=actor,
                 target=person.username, request=request)


def user_unlock(*, actor, person, request=None) -> int:
    """Lift django-axes' log-in lock-out for this user name (from every address); returns the attempts removed."""
    removed = _axes_reset(person.username)
    audit_record(action="team.user_unlocked", actor=actor, target=person.username, request=request,
                 extra={"attempts_removed": removed})
    return removed


def _axes_reset(username: str) -> int:
    from axes.utils import reset

    return reset(username=username)


def password_reset_done(*, person, request=None) -> None:
    """After a reset by e-mail: they proved they hold the mailbox, so a lock-out on their name is lifted too."""
    _axes_reset(person.username)
    audit_record(action="auth.password_reset", actor=person, target=person.username, request=request)


def password_reset_request(*, email: str, request) -> bool:
    """Throttle, audit and hand the request to a worker; False when throttled.

    The web request does exactly the same work whether the address belongs to someone or not (count, audit,
    enqueue): the worker looks the address up and sends the mail, so neither the answer nor its timing tells
    who has an account here.
    """
    ip = client_ip(request) or "unknown"
    window = 3600
    allowed = ratelimit_hit(scope="pwreset-email", value=email, limit=settings.PASSWORD_RESET_PER_EMAIL_PER_HOUR,
                            window_seconds=window)
    allowed = ratelimit_hit(scope="pwreset-ip", value=ip, limit=settings.PASSWORD_RESET_PER_IP_PER_HOUR,
                            window_seconds=window) and allowed
    audit_record(action="auth.password_reset_requested", target=email, request=request,
                 outcome="success" if allowed else "failure", error="" if allowed else "throttled")
    if allowed:
        from portaladmin.accounts.tasks import password_reset_send_task

        domain, use_https = request.get_host(), request.is_secure()  # get_host() is checked against ALLOWED_HOSTS
        transaction.on_commit(lambda: password_reset_send_task.delay(email=email, domain=domain,
                                                                     use_https=use_https))
    return allowed


def password_reset_send(*, email: str, domain: str, use_https: bool) -> int:
    """In the worker: mail a reset link to each active account with this address and a usable password
    (Django's PasswordResetForm picks them). Returns how many mails were sent."""
    from django.contrib.auth.forms import PasswordResetForm

    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(email))
    form.save(domain_override=domain, use_https=use_https,
              subject_template_name="accounts/password_reset_subject.txt",
              email_template_name="accounts/password_reset_email.txt")
    return len(users)


def time_zone_get(*, user) -> str:
    from portaladmin.accounts.models import Preferences

    return Preferences.objects.filter(user=user).values_list("time_zone", flat=True).first() or "UTC"


def time_zone_set(*, user, time_zone: str) -> None:
    from portaladmin.accounts.models import Preferences

    Preferences.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
