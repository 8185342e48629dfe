from django.urls import path

from . import views

app_name = "assistant"
urlpatterns = [
    path("drafts/<int:pk>/assistant/", views.panel, name="panel"),
    path("drafts/<int:pk>/assistant/ask/", views.ask, name="ask"),
    path("drafts/<int:pk>/assistant/clear/", views.clear, name="clear"),
    path("drafts/<int:pk>/assistant/events/", views.events, name="events"),
]
