from django.urls import path

from portaladmin.core.views import placeholder

app_name = "harvesters"
urlpatterns = [path("", placeholder, name="list")]
