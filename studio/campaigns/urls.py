from django.urls import path

from . import channel_views, fit_views, review_views, views

app_name = "campaigns"
urlpatterns = [
    path("w/<int:ws>/campaigns/", views.campaign_list, name="list"),
    path("w/<int:ws>/campaigns/new/", views.campaign_create, name="create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("campaigns/<int:pk>/generate/", views.campaign_generate, name="generate"),
    path("campaigns/<int:pk>/export/", views.campaign_export, name="export"),
    path("campaigns/<int:pk>/events/", views.campaign_events, name="events"),
    path("campaigns/<int:pk>/stop/", views.campaign_stop, name="stop_all"),
    path("deliverables/<int:pk>/remove/", views.deliverable_remove, name="remove"),
    path("deliverables/<int:pk>/stop/", views.deliverable_stop, name="stop"),
    path("deliverables/<int:pk>/regenerate/", views.deliverable_regenerate, name="regenerate"),
]

# Review (issue 21, item 4): review_views.py.

urlpatterns += [
    path("deliverables/<int:pk>/review/", review_views.deliverable_review, name="review"),
    path(
        "deliverables/<int:pk>/review/move/",
        review_views.deliverable_transition,
        name="transition",
    ),
    path("deliverables/<int:pk>/comments/", review_views.deliverable_comment, name="comment"),
    path("w/<int:ws>/campaigns/review-policy/", review_views.review_policy, name="review_policy"),
]

# Fit to limits (issue 21, item 3): fit_views.py.

urlpatterns += [
    path("deliverables/<int:pk>/fit/", fit_views.deliverable_fit, name="fit"),
    path("deliverables/<int:pk>/fit/decide/", fit_views.deliverable_fit_decide, name="fit_decide"),
]

# Per-workspace channel rules (issue 21, item 3): channel_views.py.

urlpatterns += [
    path("w/<int:ws>/channels/", channel_views.channel_rules, name="channels"),
    path(
        "w/<int:ws>/channels/<slug:channel>/", channel_views.channel_rule_save, name="channel_save"
    ),
    path(
        "w/<int:ws>/channels/<slug:channel>/reset/",
        channel_views.channel_rule_reset,
        name="channel_reset",
    ),
]
