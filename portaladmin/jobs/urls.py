from django.urls import path

from portaladmin.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.jobs_list, name="list"),
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/status/", views.job_status_fragment, name="status"),
    path("<int:job_id>/retry/", views.job_retry, name="retry"),
    path("<int:job_id>/cancel/", views.job_cancel_view, name="cancel"),
]
