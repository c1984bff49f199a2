from django.urls import path

from portaladmin.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.users, name="users"),
    path("<int:pk>/", views.user_detail, name="user"),
    path("<int:pk>/password/", views.user_set_password, name="set-password"),
    path("<int:pk>/unlock/", views.user_unlock, name="unlock"),
    path("<int:pk>/toggle-active/", views.user_toggle_active, name="toggle-active"),
    path("<int:pk>/add-connections/", views.user_toggle_add_connections, name="toggle-add-connections"),
]
