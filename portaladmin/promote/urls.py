from django.urls import path

from portaladmin.promote import views

app_name = "promote"
urlpatterns = [
    path("drift/", views.drift_view, name="drift"),  # before <uid>/ (a dataset uid is never "drift")
    path("pages/<str:kind>/<str:slug>/", views.page_compare_view, name="page-compare"),
    path("pages/<str:kind>/<str:slug>/promote/", views.page_promote_view, name="page-promote"),
    path("<str:uid>/", views.compare_view, name="compare"),
    path("<str:uid>/dry-run/", views.dry_run_view, name="dry-run"),
    path("<str:uid>/start/", views.start_view, name="start"),
    path("<str:uid>/dependents/", views.dependents_view, name="dependents"),
]
