"""drafts 0007: the control flags move out of Generation.params into typed columns."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("drafts", "0006_generation_max_tokens")]
AFTER = [("drafts", "0007_generation_controls_and_origin")]


@pytest.mark.django_db(transaction=True)
def test_0007_moves_cache_and_prefix_out_of_params_into_columns():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("auth", "User").objects.create(username="hamlet")
    space = old.get_model("workspaces", "Workspace").objects.create(name="W", created_by=user)
    draft = old.get_model("drafts", "Draft").objects.create(
        workspace=space, title="T", created_by=user
    )
    Generation = old.get_model("drafts", "Generation")
    request = [{"role": "user", "content": "Write."}]
    common = {"draft": draft, "created_by": user, "model": "m", "status": "cancelled"}
    cached = Generation.objects.create(
        **common, params={"temperature": 0, "cache": "use"}, messages=request, text="So far"
    )
    follow = request + [
        {"role": "assistant", "content": "So far"},
        {"role": "user", "content": "Continue."},
    ]
    continued = Generation.objects.create(
        **common, params={"temperature": 0, "prefix": "So far"}, messages=follow
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    Generation = executor.loader.project_state(AFTER).apps.get_model("drafts", "Generation")
    cached, continued = (
        Generation.objects.get(pk=cached.pk),
        Generation.objects.get(pk=continued.pk),
    )

    assert (cached.params, cached.cache_mode, cached.prefix) == ({"temperature": 0}, "use", "")
    assert continued.params == {"temperature": 0} and continued.cache_mode == "off"
    assert (continued.prefix, continued.continues_id) == ("So far", cached.pk)
    assert continued.messages == follow  # what was sent stays as it was
    assert cached.channel == "ui" and cached.client_ip is None  # unknown before: the default

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_0009_labels_the_versions_a_continue_wrote():
    before, after = [("drafts", "0008_draft_trash")], [("drafts", "0009_version_source_continued")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="hamlet")
    space = old.get_model("workspaces", "Workspace").objects.create(name="W", created_by=user)
    draft = old.get_model("drafts", "Draft").objects.create(
        workspace=space, title="T", created_by=user
    )
    Generation = old.get_model("drafts", "Generation")
    common = {"draft": draft, "created_by": user, "model": "m", "status": "done"}
    first = Generation.objects.create(**common, text="So far")
    follow = Generation.objects.create(**common, continues=first, prefix="So far")
    Version = old.get_model("drafts", "DraftVersion")
    for number, generation in enumerate([first, follow], start=1):
        Version.objects.create(
            draft=draft, number=number, text="x", source="generated", author=user,
            generation=generation,
        )  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    Version = executor.loader.project_state(after).apps.get_model("drafts", "DraftVersion")

    assert list(Version.objects.order_by("number").values_list("source", flat=True)) == [
        "generated",
        "continued",
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
