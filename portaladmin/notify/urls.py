from django.urls import path

from portaladmin.notify import views

app_name = "notify"
urlpatterns = [
    path("", views.rules_list, name="list"),
    path("new/", views.rule_create, name="create"),
    path("<int:rule_id>/", views.rule_detail, name="detail"),
    path("<int:rule_id>/edit/", views.rule_edit, name="edit"),
    path("<int:rule_id>/test/", views.rule_test, name="test"),
    path("<int:rule_id>/secret/", views.rule_secret, name="secret"),
    path("<int:rule_id>/delete/", views.rule_delete, name="delete"),
]
