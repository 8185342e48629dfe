from django.urls import path

from .views import editor, generations, sections, suggestions, trash, versions, workspace

app_name = "drafts"
urlpatterns = [
    # "generate" (the workspace's Generate, which may run an experiment's variant) lives above
    # drafts, in prompts.experiments.views.generate: studio/urls.py adds it to this namespace.
    path("drafts/<int:pk>/", workspace.draft_detail, name="detail"),
    path("generations/<int:pk>/events/", generations.generation_events, name="events"),
    path("generations/<int:pk>/cancel/", generations.cancel_generation, name="cancel"),
    path("drafts/<int:pk>/follow-up/", generations.follow_up, name="follow_up"),
    # Lists, editing, versions, export and sharing (drafts/views/versions.py).
    path("w/<int:pk>/drafts/", versions.draft_list, name="list"),
    path("w/<int:pk>/trash/", trash.trash, name="trash"),
    path("drafts/<int:pk>/edit/", editor.draft_edit, name="edit"),
    path("drafts/<int:pk>/edit/preview/", editor.draft_preview, name="preview"),
    path("drafts/<int:pk>/compare/", versions.draft_compare, name="compare"),
    path("drafts/<int:pk>/status/", versions.set_status, name="status"),
    path("drafts/<int:pk>/v/<int:number>/restore/", versions.restore_version, name="restore"),
    path("drafts/<int:pk>/v/<int:number>/export/<str:fmt>/", versions.export, name="export"),
    path("drafts/<int:pk>/v/<int:number>/share/", versions.share_version, name="share"),
    path("shares/<int:pk>/revoke/", versions.revoke_share, name="revoke_share"),
    path("s/<str:token>/", versions.shared, name="shared"),
    # Sections and suggestions (drafts/views/sections.py, drafts/views/suggestions.py).
    path(
        "drafts/<int:pk>/sections/generate/",
        sections.section_generate,
        name="section_generate",
    ),
    path("drafts/<int:pk>/sections/move/", sections.section_move, name="section_move"),
    path("drafts/<int:pk>/rewrite/", suggestions.rewrite, name="rewrite"),
    path("drafts/<int:pk>/suggestions/<int:sid>/decide/", suggestions.decide, name="decide"),
    path(
        "drafts/<int:pk>/suggestions/<int:sid>/headline/",
        suggestions.use_headline,
        name="use_headline",
    ),
]
