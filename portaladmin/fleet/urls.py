from django.urls import path

from portaladmin.core.views import placeholder

app_name = "fleet"
urlpatterns = [path("datasets/", placeholder, name="datasets")]
