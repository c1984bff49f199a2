from django.urls import path

from portaladmin.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("export.csv", views.activity_export, name="export"),
]
