from django.urls import path

from portaladmin.people import views

app_name = "people"
urlpatterns = [
    path("users/", views.user_list, name="users"),
    path("users/export/", views.user_export, name="users_export"),
    path("users/provision/", views.user_provision, name="provision"),
    path("users/invite/", views.user_invite, name="invite"),
    path("users/invite/<uuid:draft_id>/", views.invite_preview, name="invite_preview"),
    path("users/invite/<uuid:draft_id>/rows.csv", views.invite_rows_csv, name="invite_rows"),
    path("users/invite/<uuid:draft_id>/confirm/", views.invite_confirm, name="invite_confirm"),
    path("users/<str:username>/", views.user_detail, name="user"),
    path("users/<str:username>/permissions/", views.user_permissions, name="user_permissions"),
    path("users/<str:username>/limits/", views.user_limits, name="user_limits"),
    path("users/<str:username>/groups/add/", views.user_group_add, name="user_group_add"),
    path("users/<str:username>/groups/<str:group_uid>/remove/", views.user_group_remove, name="user_group_remove"),
    path("users/<str:username>/remove/", views.user_remove, name="user_remove"),
    path("groups/", views.group_list, name="groups"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<str:group_uid>/", views.group_detail, name="group"),
    path("groups/<str:group_uid>/edit/", views.group_edit, name="group_edit"),
    path("groups/<str:group_uid>/delete/", views.group_delete, name="group_delete"),
    path("groups/<str:group_uid>/members/add/", views.group_member_add, name="group_member_add"),
    path("groups/<str:group_uid>/members/batch/", views.group_batch_add, name="group_batch_add"),
    path("groups/<str:group_uid>/members/batch/<uuid:draft_id>/", views.batch_preview, name="batch_preview"),
    path("groups/<str:group_uid>/members/batch/<uuid:draft_id>/rows.csv", views.batch_rows_csv, name="batch_rows"),
    path("groups/<str:group_uid>/members/batch/<uuid:draft_id>/confirm/", views.batch_confirm,
         name="batch_confirm"),
    path("groups/<str:group_uid>/members/<str:username>/remove/", views.group_member_remove,
         name="group_member_remove"),
]
