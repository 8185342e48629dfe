from django.urls import path

from . import views

app_name = "drafts"
urlpatterns = [
    path("w/<int:pk>/generate/", views.generate, name="generate"),
    path("drafts/<int:pk>/", views.draft_detail, name="detail"),
    path("generations/<int:pk>/events/", views.generation_events, name="events"),
    path("generations/<int:pk>/cancel/", views.cancel_generation, name="cancel"),
]
