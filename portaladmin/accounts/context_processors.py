from django.conf import settings


def sso(request):
    """Whether the log-in page offers single sign-on, and under which name."""
    return {"oidc_enabled": settings.OIDC_ENABLED, "oidc_provider_name": settings.OIDC_PROVIDER_NAME}
