"""URL patterns of the catalogue processors, schema view, schedule edits, alternative exports, feedback,
images and attachment records (included from datasets/urls.py, before the dataset page patterns, so that
`feedback/` and `images/` are not read as a dataset uid)."""

from django.urls import path

from portaladmin.datasets.views import extras as x
from portaladmin.datasets.views import processing as p

U = "<str:uid>/"
urlpatterns = [
    path("feedback/", x.feedback_all, name="feedback_all"),
    path("feedback/count/", x.feedback_count, name="feedback_count"),
    path("images/", x.images, name="images"),
    path("images/upload/", x.image_upload, name="image_upload"),
    path(U + "processors/new/", p.processor_new, name="processor_new"),
    path(U + "processors/<str:processor_uid>/change/", p.processor_change, name="processor_change"),
    path(U + "processors/<str:processor_uid>/move/<str:direction>/", p.processor_move, name="processor_move"),
    path(U + "schema/", p.schema, name="schema"),
    path(U + "schema/<str:field_name>/", p.schema_field, name="schema_field"),
    path(U + "schedules/<str:schedule_uid>/change/", x.schedule_change, name="schedule_change"),
    path(U + "exports/", x.exports, name="exports"),
    path(U + "exports/add/", x.export_add, name="export_add"),
    path(U + "exports/<str:export_uid>/change/", x.export_change, name="export_change"),
    path(U + "exports/<str:export_uid>/delete/", x.export_delete, name="export_delete"),
    path(U + "exports/<str:export_uid>/download/", x.export_download, name="export_download"),
    path(U + "feedback/", x.feedback, name="feedback"),
    path(U + "feedback/<str:feedback_uid>/", x.feedback_detail, name="feedback_detail"),
    path(U + "feedback/<str:feedback_uid>/archive/", x.feedback_archive, name="feedback_archive"),
    path(U + "attachments/<str:attachment_uid>/details/", x.attachment_detail, name="attachment_detail"),
]
