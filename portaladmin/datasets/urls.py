from django.urls import include, path

from portaladmin.datasets.views import bulk_metadata as b
from portaladmin.datasets.views import catalogue as c
from portaladmin.datasets.views import dataset as d
from portaladmin.datasets.views import templates as t

app_name = "datasets"
U = "<str:uid>/"
urlpatterns = [
    path("", c.dataset_list, name="list"),
    path("refresh/", c.refresh, name="refresh"),
    path("sync-status/", c.sync_status, name="sync_status"),
    path("bulk/", c.bulk_action, name="bulk"),
    path("scan/", c.scan_now, name="scan"),
    path("scan-status/", c.scan_status, name="scan_status"),
    path("new/", c.dataset_create_view, name="create"),
    path("templates/", t.template_list, name="templates"),
    path("bulk-metadata/", b.bulk_metadata, name="bulk_metadata"),
    path("bulk-metadata/<int:job_id>/undo/", b.bulk_metadata_undo, name="bulk_metadata_undo"),
    path("", include("portaladmin.datasets.urls_parts")),  # processors, schema, exports, feedback, images
    path(U, d.dataset_detail, name="detail"),
    path(U + "action/<str:action>/", d.dataset_action, name="action"),
    path(U + "copy/", d.dataset_copy, name="copy"),
    path(U + "delete/", d.dataset_delete, name="delete"),
    path(U + "metadata/<str:template>/", d.metadata_template_edit, name="metadata_template"),
    path(U + "metadata/<str:template>/<str:field>/suggest/", d.metadata_suggest, name="metadata_suggest"),
    path(U + "resources/url/", d.resource_add_url, name="resource_url"),
    path(U + "resources/upload/", d.resource_upload, name="resource_upload"),
    path(U + "resources/<str:resource_uid>/preview/", d.resource_preview, name="resource_preview"),
    path(U + "resources/<str:resource_uid>/delete/", d.resource_delete, name="resource_delete"),
    path(U + "processors/<str:processor_uid>/delete/", d.processor_delete, name="processor_delete"),
    path(U + "fields/add/", d.field_config_save, name="field_add"),
    path(U + "fields/<str:field_uid>/edit/", d.field_config_save, name="field_edit"),
    path(U + "fields/<str:field_uid>/delete/", d.field_config_delete, name="field_delete"),
    path(U + "schedules/add/", d.schedule_add, name="schedule_add"),
    path(U + "schedules/preview/", d.cron_preview, name="cron_preview"),
    path(U + "schedules/<str:schedule_uid>/delete/", d.schedule_delete, name="schedule_delete"),
    path(U + "versions/<str:version_uid>/restore/", d.version_restore, name="version_restore"),
    path(U + "attachments/upload/", d.attachment_upload, name="attachment_upload"),
    path(U + "attachments/<str:attachment_uid>/delete/", d.attachment_delete, name="attachment_delete"),
    path(U + "security/save/", d.security_update, name="security"),
    path(U + "security/rulesets/add/", d.ruleset_save, name="ruleset_add"),
    path(U + "security/rulesets/<str:kind>/<str:principal>/edit/", d.ruleset_save, name="ruleset_edit"),
    path(U + "security/rulesets/<str:kind>/<str:principal>/delete/", d.ruleset_delete, name="ruleset_delete"),
    # Last: /c/<conn>/datasets/<uid>/<tab>/ (each tab reachable by a plain URL).
    path(U + "<str:tab>/", d.dataset_detail, name="tab"),
]
