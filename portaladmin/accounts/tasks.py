"""Celery tasks of the accounts app. No secret travels in the arguments: the worker makes the reset token."""

from celery import shared_task


@shared_task(name="accounts.password_reset_send", ignore_result=True)
def password_reset_send_task(*, email: str, domain: str, use_https: bool) -> int:
    from portaladmin.accounts.services import password_reset_send

    return password_reset_send(email=email, domain=domain, use_https=use_https)
