from django.urls import path

from portaladmin.portals import keyviews, views

app_name = "portals"
urlpatterns = [
    path("", views.connection_list, name="list"),
    path("new/", views.connection_create, name="create"),
    path("<slug:conn>/", views.connection_detail, name="detail"),
    path("<slug:conn>/edit/", views.connection_edit, name="edit"),
    path("<slug:conn>/delete/", views.connection_delete, name="delete"),
    path("<slug:conn>/test/", views.connection_test, name="test"),
    path("<slug:conn>/members/", views.member_list, name="members"),
    path("<slug:conn>/members/<int:pk>/role/", views.member_change, name="member-change"),
    path("<slug:conn>/members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("<slug:conn>/apikeys/", keyviews.apikey_list, name="apikeys"),
    path("<slug:conn>/apikeys/new-key/", keyviews.apikey_new_shown, name="apikey-new"),  # before <key_uid>/
    path("<slug:conn>/apikeys/<str:key_uid>/", keyviews.apikey_edit, name="apikey-edit"),
    path("<slug:conn>/apikeys/<str:key_uid>/revoke/", keyviews.apikey_revoke, name="apikey-revoke"),
    path("<slug:conn>/datasources/", keyviews.datasource_list, name="datasources"),
    path("<slug:conn>/datasources/new/", keyviews.datasource_create, name="datasource-create"),
    path("<slug:conn>/datasources/<str:ds_uid>/", keyviews.datasource_edit, name="datasource-edit"),
    path("<slug:conn>/datasources/<str:ds_uid>/delete/", keyviews.datasource_delete, name="datasource-delete"),
    path("<slug:conn>/datasources/<str:ds_uid>/access/", keyviews.datasource_access_set, name="datasource-access"),
    path("<slug:conn>/datasources/<str:ds_uid>/access/remove/", keyviews.datasource_access_remove,
         name="datasource-access-remove"),
]
