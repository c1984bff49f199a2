"""Single sign-on with OpenID Connect against a real local provider (oidc-provider-mock, started by the test).

The whole authorization-code flow runs over HTTP: our /oidc/authenticate/ sends the browser to the provider,
the provider (its consent form posted by the test) sends it back with a code, and our callback exchanges the
code, checks the signed ID token (signature, nonce, issuer, audience) and asks the userinfo endpoint."""

from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from oidc_provider_mock import User, run_server_in_thread

from portaladmin.accounts.models import ExternalIdentity
from portaladmin.audit.models import AuditEvent
from portaladmin.portals.models import Membership

pytestmark = pytest.mark.django_db

ANNA = User(sub="sub-anna-0001", claims={"email": "anna@idp.example.org", "preferred_username": "anna",
                                         "given_name": "Anna", "family_name": "Berg"})
# Someone at the provider who claims the address of a local superuser.
IMPOSTOR = User(sub="sub-eve-0666", claims={"email": "root@example.org", "preferred_username": "root"})


@pytest.fixture(scope="module")
def provider():
    import os

    before = os.environ.get("AUTHLIB_INSECURE_TRANSPORT")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # the mock serves plain http on localhost
    try:
        with run_server_in_thread(user_claims=[ANNA, IMPOSTOR]) as server:
            yield f"http://localhost:{server.server_port}"
    finally:
        if before is None:
            os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)
        else:
            os.environ["AUTHLIB_INSECURE_TRANSPORT"] = before


@pytest.fixture
def sso(settings, provider):
    settings.OIDC_ENABLED = True
    settings.OIDC_OP_ISSUER = provider
    settings.OIDC_RP_CLIENT_ID = "portaladmin-test"
    settings.OIDC_RP_CLIENT_SECRET = "client-secret-for-tests"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider}/oauth2/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider}/oauth2/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider}/jwks"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "portaladmin.accounts.oidc.OidcBackend"]
    return settings


def sign_in(client: Client, sub: str):
    """Follow the flow as a browser would; returns our callback's answer."""
    start = client.get(reverse("oidc_authentication_init"), {"next": "/jobs/"})
    assert start.status_code == 302
    authorize = start["Location"]
    assert "code_challenge=" in authorize and "nonce=" in authorize  # PKCE and nonce are on
    consent = requests.post(authorize, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert consent.status_code == 302, consent.text[:300]
    back = urlsplit(consent.headers["Location"])
    assert back.path == reverse("oidc_authentication_callback")
    return client.get(back.path + "?" + back.query)


def test_off_by_default_no_button_and_404(client):
    assert "Log in with" not in client.get(reverse("login")).content.decode()
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback"), {"code": "x", "state": "y"}).status_code == 404


def test_first_sign_in_creates_a_user_with_no_role_then_finds_them_again(sso, cast):
    client = Client()
    login_page = client.get(reverse("login")).content.decode()
    assert "Log in with single sign-on" in login_page

    response = sign_in(client, ANNA.sub)
    assert response.status_code == 302 and response["Location"] == "/jobs/"
    anna = get_user_model().objects.get(external_identities__subject=ANNA.sub)
    assert (anna.username, anna.email, anna.get_full_name()) == ("anna", "anna@idp.example.org", "Anna Berg")
    assert not anna.is_superuser and not anna.is_staff and not anna.has_usable_password()
    assert not Membership.objects.filter(user=anna).exists()  # no role anywhere until an admin gives one
    assert client.get(reverse("datasets:list", kwargs={"conn": "demo"})).status_code == 404
    assert AuditEvent.objects.filter(action="auth.sso_user_created", target="anna").count() == 1
    assert AuditEvent.objects.filter(action="auth.login", actor_name="anna").count() == 1

    again = Client()
    assert sign_in(again, ANNA.sub).status_code == 302
    assert get_user_model().objects.filter(username__startswith="anna").count() == 1
    assert ExternalIdentity.objects.count() == 1


def test_an_identity_claiming_a_local_address_does_not_become_that_person(sso, cast):
    client = Client()
    assert sign_in(client, IMPOSTOR.sub).status_code == 302
    newcomer = get_user_model().objects.get(external_identities__subject=IMPOSTOR.sub)
    assert newcomer.pk != cast["superuser"].pk and newcomer.username == "root-2"
    assert not newcomer.is_superuser
    assert client.get(reverse("accounts:users")).status_code == 403


def test_deactivated_sso_user_is_refused(sso):
    first = Client()
    sign_in(first, ANNA.sub)
    get_user_model().objects.filter(external_identities__subject=ANNA.sub).update(is_active=False)
    response = sign_in(Client(), ANNA.sub)
    assert response.status_code == 302 and response["Location"] == reverse("login")


def test_a_token_from_another_issuer_is_refused(sso):
    sso.OIDC_OP_ISSUER = "https://login.example.org"  # what we trust is not who signed the token
    response = sign_in(Client(), ANNA.sub)
    assert response.status_code == 400
    assert not get_user_model().objects.filter(external_identities__subject=ANNA.sub).exists()
