from django.urls import path

from . import section_views, suggestion_views, trash_views, version_views, views

app_name = "drafts"
urlpatterns = [
    # "generate" (the workspace's Generate, which may run an experiment's variant) lives above
    # drafts, in prompts.experiments.generate_views: studio/urls.py adds it to this namespace.
    path("drafts/<int:pk>/", views.draft_detail, name="detail"),
    path("generations/<int:pk>/events/", views.generation_events, name="events"),
    path("generations/<int:pk>/cancel/", views.cancel_generation, name="cancel"),
    path("drafts/<int:pk>/follow-up/", views.follow_up, name="follow_up"),
    # Lists, editing, versions, export and sharing (drafts/version_views.py).
    path("w/<int:pk>/drafts/", version_views.draft_list, name="list"),
    path("w/<int:pk>/trash/", trash_views.trash, name="trash"),
    path("drafts/<int:pk>/edit/", version_views.draft_edit, name="edit"),
    path("drafts/<int:pk>/compare/", version_views.draft_compare, name="compare"),
    path("drafts/<int:pk>/status/", version_views.set_status, name="status"),
    path("drafts/<int:pk>/v/<int:number>/restore/", version_views.restore_version, name="restore"),
    path("drafts/<int:pk>/v/<int:number>/export/<str:fmt>/", version_views.export, name="export"),
    path("drafts/<int:pk>/v/<int:number>/share/", version_views.share_version, name="share"),
    path("shares/<int:pk>/revoke/", version_views.revoke_share, name="revoke_share"),
    path("s/<str:token>/", version_views.shared, name="shared"),
    # Sections and suggestions (drafts/section_views.py, drafts/suggestion_views.py).
    path(
        "drafts/<int:pk>/sections/generate/",
        section_views.section_generate,
        name="section_generate",
    ),
    path("drafts/<int:pk>/sections/move/", section_views.section_move, name="section_move"),
    path("drafts/<int:pk>/rewrite/", suggestion_views.rewrite, name="rewrite"),
    path("drafts/<int:pk>/suggestions/<int:sid>/decide/", suggestion_views.decide, name="decide"),
    path(
        "drafts/<int:pk>/suggestions/<int:sid>/headline/",
        suggestion_views.use_headline,
        name="use_headline",
    ),
]
