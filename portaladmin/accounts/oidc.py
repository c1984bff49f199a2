"""Optional single sign-on with OpenID Connect (mozilla-django-oidc), off unless OIDC_ENABLED.

What we add to the library: the ID token's issuer and audience are checked (the library checks only the
signature and nonce), the userinfo answer must be about the same subject, people are matched on
(issuer, subject) rather than e-mail, and someone signing in for the first time gets an account with no
role anywhere and no usable password: an admin gives them roles on a connection's Members page.
"""

import re
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from portaladmin.accounts.models import ExternalIdentity
from portaladmin.audit.services import audit_record


class OidcBackend(OIDCAuthenticationBackend):
    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if payload.get("iss") != settings.OIDC_OP_ISSUER or self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token from another issuer or for another client.")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        claims = super().get_userinfo(access_token, id_token, payload)
        if not claims.get("sub") or claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The userinfo answer is about another subject than the ID token.")
        return claims

    def verify_claims(self, claims):
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        return get_user_model().objects.filter(external_identities__issuer=settings.OIDC_OP_ISSUER,
                                               external_identities__subject=claims["sub"])

    @transaction.atomic
    def create_user(self, claims):
        user = get_user_model().objects.create_user(
            _free_username(claims), email=claims.get("email") or "",
            first_name=str(claims.get("given_name") or "")[:150], last_name=str(claims.get("family_name") or "")[:150])
        user.set_unusable_password()  # they sign in through the provider; no password reset either
        user.save(update_fields=["password"])
        ExternalIdentity.objects.create(user=user, issuer=settings.OIDC_OP_ISSUER, subject=claims["sub"])
        audit_record(action="auth.sso_user_created", actor=user, target=user.username, request=self.request,
                     extra={"issuer": settings.OIDC_OP_ISSUER})
        return user


def _free_username(claims) -> str:
    wanted = str(claims.get("preferred_username") or (claims.get("email") or "").split("@")[0] or "sso-user")
    base = re.sub(r"[^\w.@+-]", "-", wanted)[:140] or "sso-user"
    taken = get_user_model().objects.filter(username__startswith=base).values_list("username", flat=True)
    taken = set(taken)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


class _Callback(OIDCAuthenticationCallbackView):
    def login_failure(self):
        messages.error(self.request, "Single sign-on did not succeed. Try again or log in with your password.")
        return HttpResponseRedirect(reverse("login"))


def _sso_only(view):
    """404 while single sign-on is off; reachable without a log-in (it is a way to log in)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not enabled.")
        return view(request, *args, **kwargs)

    return login_not_required(wrapped)


authenticate = _sso_only(OIDCAuthenticationRequestView.as_view())
callback = _sso_only(_Callback.as_view())
