from django.urls import path

from portaladmin.fleet import views

app_name = "fleet"
urlpatterns = [
    path("datasets/", views.datasets_board, name="datasets"),
    path("datasets/bulk/", views.datasets_bulk, name="datasets-bulk"),
    path("datasets/metadata/", views.datasets_metadata, name="datasets-metadata"),
    path("datasets/metadata/<int:job_id>/undo/", views.datasets_metadata_undo, name="datasets-metadata-undo"),
    path("harvesters/", views.harvesters_board, name="harvesters"),
    path("harvesters/refresh/", views.harvesters_refresh, name="harvesters-refresh"),
    path("people/", views.people, name="people"),
    path("people/offboard/", views.people_offboard, name="people-offboard"),
    path("people/offboard/<int:job_id>/", views.offboard_status, name="offboard"),
    path("watchdog/c/<slug:conn>/datasets/<str:uid>/abort/", views.watchdog_dataset_abort,
         name="watchdog-dataset-abort"),
    path("watchdog/c/<slug:conn>/harvesters/<str:uid>/abort/", views.watchdog_harvester_abort,
         name="watchdog-harvester-abort"),
    path("watchdog/jobs/<int:job_id>/retry/", views.watchdog_job_retry, name="watchdog-job-retry"),
    path("watchdog/jobs/<int:job_id>/cancel/", views.watchdog_job_cancel, name="watchdog-job-cancel"),
]
