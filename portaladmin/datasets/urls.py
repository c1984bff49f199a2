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
    path("export.csv", c.dataset_export, name="export"),
    path("scan/", c.scan_now, name="scan"),
    path("scan-status/", c.scan_status, name="scan_status"),
    path("new/", c.dataset_create_view, name="create"),
    path("templates/", t.template_list, name="templates"),
    path("templates/new/", t.template_create, name="template_create"),
    path("templates/<str:name>/edit/", t.template_edit, name="template_edit"),
    path("templates/<str:name>/delete/", t.template_delete, name="template_delete"),
    path("templates/<str:name>/active/", t.template_active, name="template_active"),
    path("html-preview/", d.html_preview, name="html_preview"),
    path("bulk-metadata/", b.bulk_metadata, name="bulk_metadata"),
    path("bulk-metadata/<int:job_id>/undo/", b.bulk_metadata_undo, name="bulk_metadata_undo"),
    path("", include("portaladmin.datasets.urls_parts")),  # processors, schema, exports, feedback, images
    path(U, d.dataset_detail, name="detail"),
    path(U + "action/<str:action>/", d.dataset_action, name="action"),
    path(U + "copy/", d.dataset_copy, name="copy"),
    path(U + "delete/", d.dataset_delete, name="delete"),
    path(U + "metadata/<str:template>/", d.metadata_template_edit, name="metadata_template"),
    path(U + "metadata/<str:template>/<str:field>/suggest/", d.metadata_suggest, name="metadata_suggest"),
    path("", include("portaladmin.datasets.urls_resources")),  # resources (views/resources.py)
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
