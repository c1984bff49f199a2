from django.urls import path

from portaladmin.core.views import placeholder

app_name = "people"
urlpatterns = [path("users/", placeholder, name="users"), path("groups/", placeholder, name="groups")]
