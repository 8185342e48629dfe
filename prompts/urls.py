from django.urls import path

from . import views
from .experiments.views import batches, experiments

app_name = "prompts"
urlpatterns = [
    path("w/<int:ws>/templates/", views.template_list, name="list"),
    path("w/<int:ws>/templates/new/", views.template_create, name="create"),
    path("w/<int:ws>/templates/export/", views.template_export, name="export"),
    path("w/<int:ws>/templates/import/", views.template_import, name="import"),
    path("w/<int:ws>/templates/<int:pk>/", views.template_detail, name="detail"),
    path("w/<int:ws>/templates/<int:pk>/edit/", views.template_edit, name="edit"),
    path("w/<int:ws>/templates/<int:pk>/diff/", views.template_diff, name="diff"),
    path("w/<int:ws>/voices/", views.voice_list, name="voices"),
    path("w/<int:ws>/voices/<int:pk>/", views.voice_detail, name="voice"),
    # A/B experiments (prompts/experiments/views/experiments.py).
    path("w/<int:ws>/experiments/", experiments.experiment_list, name="experiments"),
    path("w/<int:ws>/experiments/new/", experiments.experiment_create, name="experiment_create"),
    path("w/<int:ws>/experiments/<int:pk>/", experiments.experiment_detail, name="experiment"),
    path("w/<int:ws>/experiments/<int:pk>/run/", experiments.run_start, name="run_start"),
    path(
        "w/<int:ws>/experiments/<int:pk>/results/",
        experiments.experiment_results,
        name="experiment_results",
    ),
    path("w/<int:ws>/runs/<int:pk>/", experiments.run_detail, name="run"),
    path("w/<int:ws>/columns/<int:pk>/", experiments.run_column, name="run_column"),
    # Batch experiments (prompts/experiments/views/batches.py).
    path("w/<int:ws>/experiments/<int:pk>/batches/", batches.batch_list, name="batches"),
    path("w/<int:ws>/batches/<int:pk>/", batches.batch_detail, name="batch"),
    path("w/<int:ws>/batches/<int:pk>/review/", batches.batch_review, name="batch_review"),
]
