from django.urls import path

from portaladmin.core.views import placeholder

app_name = "portals"
urlpatterns = [
    path("", placeholder, name="list"),
    path("new/", placeholder, name="create"),
    path("<slug:conn>/", placeholder, name="detail"),
]
