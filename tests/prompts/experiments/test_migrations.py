"""experiments 0001: the experiment and batch models move from the prompts app to their own,
keeping their tables, rows and content types (so permissions and admin history follow)."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from prompts.experiments.models import Experiment

BEFORE = [("prompts", "0007_brand_voice_is_the_templates")]  # experiments unapplied with it
AFTER = [("experiments", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_every_row_and_the_content_types_follow():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("auth", "User").objects.create(username="hamlet")
    space = old.get_model("workspaces", "Workspace").objects.create(name="W", created_by=user)
    kept = old.get_model("prompts", "Experiment").objects.create(
        workspace=space, name="Warmer?", created_by=user
    )
    # Today's models: contenttypes and auth stay migrated (the old state predates their last).
    ContentType.objects.filter(app_label="experiments", model="experiment").delete()
    was = ContentType.objects.get_or_create(app_label="prompts", model="experiment")[0]
    permission = Permission.objects.get_or_create(
        content_type_id=was.pk, codename="view_experiment", defaults={"name": "Can view"}
    )[0]

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()

    moved = Experiment.objects.get(pk=kept.pk)
    assert (moved.name, moved.workspace_id, moved._meta.db_table) == (
        "Warmer?",
        space.pk,
        "prompts_experiment",
    )
    now = ContentType.objects.get_for_model(Experiment)
    assert (now.pk, now.app_label) == (was.pk, "experiments")  # the same row, relabelled
    permission.refresh_from_db()
    assert permission.content_type_id == now.pk
