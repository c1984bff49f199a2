"""A dataset's resources (included from urls.py, in the `datasets` namespace, before the `<uid>/<tab>/` catch-all)."""

from django.urls import path

from portaladmin.datasets.views import resources as r

U = "<str:uid>/"
R = U + "resources/<str:resource_uid>/"
urlpatterns = [
    path(U + "resources/new/", r.resource_new, name="resource_new"),
    path(U + "resources/new/url/", r.resource_new_url, name="resource_new_url"),
    path(U + "resources/new/upload/", r.resource_new_upload, name="resource_new_upload"),
    path(U + "resources/new/connection/", r.resource_new_connection, name="resource_new_connection"),
    path(U + "resources/new/preview/", r.resource_draft_preview, name="resource_draft_preview"),
    path(U + "resources/new/save/", r.resource_draft_save, name="resource_draft_save"),
    path(R, r.resource_detail, name="resource"),
    path(R + "edit/", r.resource_edit, name="resource_edit"),
    path(R + "edit/preview/", r.resource_draft_preview, name="resource_edit_preview"),
    path(R + "edit/save/", r.resource_draft_save, name="resource_edit_save"),
    path(R + "edit/guess/", r.resource_edit_guess, name="resource_edit_guess"),
    path(R + "preview/", r.resource_preview, name="resource_preview"),
    path(R + "download/", r.resource_download, name="resource_download"),
    path(R + "clean-cache/", r.resource_clean_cache, name="resource_clean_cache"),
    path(R + "enable/", r.resource_enable, name="resource_enable"),
    path(R + "disable/", r.resource_disable, name="resource_disable"),
    path(R + "recover/", r.resource_recover, name="resource_recover"),
    path(R + "delete-recovered/", r.resource_delete_recovered, name="resource_delete_recovered"),
    path(R + "renew-push-key/", r.resource_renew_key, name="resource_renew_key"),
    path(R + "push-key/", r.resource_push_key, name="resource_push_key"),
    path(R + "delete/", r.resource_delete, name="resource_delete"),
    path(U + "attachments/<str:attachment_uid>/download/", r.attachment_download, name="attachment_download"),
]
