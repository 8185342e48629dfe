from django.urls import path

from . import views

app_name = "knowledge"
urlpatterns = [
    path("w/<int:ws>/knowledge/", views.knowledge, name="search"),
    path("w/<int:ws>/knowledge/new/", views.source_create, name="create"),
    path("w/<int:ws>/knowledge/<int:pk>/", views.source_detail, name="source"),
    path("w/<int:ws>/knowledge/ingestions/<int:pk>/", views.ingestion, name="ingestion"),
]
