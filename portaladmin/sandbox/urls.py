from django.urls import path

from . import api, views

app_name = "sandbox"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:name>/settings/", views.settings_update, name="settings"),
    path("<slug:name>/reset-log/", views.reset_log, name="reset_log"),
    path("<slug:portal>/api/automation/v1.0/<path:rest>", api.api_view, name="api"),
    path("<slug:portal>/api/automation/v1.0", api.api_view, {"rest": ""}, name="api_root"),
]
