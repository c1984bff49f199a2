from django.urls import path

from portaladmin.pages import views
from portaladmin.pages.selectors import CODE, STUDIO

app_name = "pages"
urlpatterns = [
    path("", views.page_list, name="list"),
    # Studio pages (by uid)
    path("studio/new/", views.studio_create, name="studio-create"),
    path("studio/<str:uid>/", views.studio_detail, name="studio-detail"),
    path("studio/<str:uid>/edit/", views.studio_edit, name="studio-edit"),
    path("studio/<str:uid>/publish/", views.studio_publish, name="studio-publish"),
    path("studio/<str:uid>/unpublish/", views.studio_unpublish, name="studio-unpublish"),
    path("studio/<str:uid>/delete/", views.studio_delete, name="studio-delete"),
    path("studio/<str:key>/access/", views.ruleset_save, {"kind": STUDIO}, name="studio-access"),
    path("studio/<str:key>/access/<str:target_kind>/<str:target>/delete/", views.ruleset_delete, {"kind": STUDIO},
         name="studio-access-delete"),
    # Code editor pages (by slug)
    path("code/", views.code_list, name="code-list"),
    path("code/new/", views.code_create, name="code-create"),
    path("code/bulk-delete/", views.code_bulk_delete, name="code-bulk-delete"),
    path("code/<str:slug>/", views.code_detail, name="code-detail"),
    path("code/<str:slug>/edit/", views.code_edit, name="code-edit"),
    path("code/<str:slug>/archive/", views.code_archive, name="code-archive"),
    path("code/<str:slug>/unarchive/", views.code_unarchive, name="code-unarchive"),
    path("code/<str:slug>/delete/", views.code_delete, name="code-delete"),
    path("code/<str:key>/access/", views.ruleset_save, {"kind": CODE}, name="code-access"),
    path("code/<str:key>/access/<str:target_kind>/<str:target>/delete/", views.ruleset_delete, {"kind": CODE},
         name="code-access-delete"),
]
