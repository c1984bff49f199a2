from django.urls import path

from portaladmin.core import views

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
]
