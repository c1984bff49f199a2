from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portaladmin.fleet import views as fleet_views

urlpatterns = [
    path("", include("portaladmin.core.urls")),
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html",
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("portaladmin.accounts.auth_urls")),
    path("team/", include("portaladmin.accounts.urls")),
    path("", fleet_views.overview, name="home"),
    path("fleet/", include("portaladmin.fleet.urls")),
    path("connections/", include("portaladmin.portals.urls")),
    path("activity/", include("portaladmin.audit.urls")),
    path("jobs/", include("portaladmin.jobs.urls")),
    path("notifications/", include("portaladmin.notify.urls")),
    # Everything about one connection lives under /c/<slug>/.
    path("c/<slug:conn>/datasets/", include("portaladmin.datasets.urls")),
    path("c/<slug:conn>/", include("portaladmin.people.urls")),
    path("c/<slug:conn>/harvesters/", include("portaladmin.harvesters.urls")),
    path("c/<slug:conn>/pages/", include("portaladmin.pages.urls")),
    path("c/<slug:conn>/promote/", include("portaladmin.promote.urls")),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("portaladmin.sandbox.urls")))
