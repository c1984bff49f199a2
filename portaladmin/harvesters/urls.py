from django.urls import path

from portaladmin.harvesters import views

app_name = "harvesters"
urlpatterns = [
    path("", views.harvester_list, name="list"),
    path("new/", views.harvester_create, name="create"),
    path("new/preview/", views.harvester_preview, name="create_preview"),
    path("<str:uid>/", views.harvester_detail, name="detail"),
    path("<str:uid>/edit/", views.harvester_edit, name="edit"),
    path("<str:uid>/edit/preview/", views.harvester_preview, name="edit_preview"),
    path("<str:uid>/preview/", views.harvester_saved_preview, name="preview"),
    path("<str:uid>/errors.csv", views.harvester_errors_csv, name="errors_csv"),
    path("<str:uid>/datasets/", views.harvester_datasets, name="datasets"),
    path("<str:uid>/job/", views.harvester_job_status, name="job_status"),
    path("<str:uid>/start/", views.harvester_action, {"action": "start"}, name="start"),
    path("<str:uid>/abort/", views.harvester_action, {"action": "abort"}, name="abort"),
    path("<str:uid>/publish/", views.harvester_action, {"action": "publish"}, name="publish"),
    path("<str:uid>/unpublish/", views.harvester_action, {"action": "unpublish"}, name="unpublish"),
    path("<str:uid>/schedule/", views.harvester_schedule, name="schedule"),
    path("<str:uid>/schedule/delete/", views.harvester_schedule_delete, name="schedule_delete"),
    path("<str:uid>/delete/", views.harvester_delete, name="delete"),
]
