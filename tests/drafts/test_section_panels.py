"""The panel's view of suggestions: a suggestion whose generation nobody runs any more does
not stay "running" for ever (the panel shows it being recovered, the sweeper ends it); one that
a worker runs costs the panel no extra query."""

from datetime import timedelta

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from drafts import generation as runner
from drafts import sweeper
from drafts.actions import add_version
from drafts.models import Draft, Generation, Suggestion
from drafts.section_panels import open_suggestions
from drafts.suggestions import start_suggestion
from studio.audit.origin import Origin

TEXT = "# Aurora lamp\n\nThe quick brown fox jumps over the lazy dog.\n"


def running_suggestion(workspace, user) -> Suggestion:
    draft = Draft.objects.create(workspace=workspace, title="Aurora", created_by=user)
    add_version(draft_id=draft.pk, text=TEXT, source="generated", author_id=user.pk)
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind="shorter"
    )
    Generation.objects.filter(pk=suggestion.generation_id).update(
        status="running", text="The quick fox"
    )
    return suggestion


def test_a_suggestion_no_worker_runs_is_shown_recovering_then_swept(
    workspace, user, client, django_assert_num_queries
):
    suggestion = running_suggestion(workspace, user)
    Generation.objects.filter(pk=suggestion.generation_id).update(
        created=timezone.now() - timedelta(seconds=runner.HEARTBEAT_TTL + 1)
    )

    with django_assert_num_queries(1):  # reads only read
        [shown] = open_suggestions(suggestion.draft)
    client.force_login(user)
    page = client.get(reverse("drafts:detail", args=[suggestion.draft_id])).content.decode()

    assert shown.pk == suggestion.pk and shown.recovering and shown.status == "running"
    assert f'data-suggestion="{suggestion.pk}" data-recovering' in page
    assert "The quick fox" in page
    sweeper.sweep()
    [shown] = open_suggestions(suggestion.draft)
    assert (shown.status, shown.proposed) == ("pending", "The quick fox")
    assert shown.generation.status == "interrupted" and not shown.recovering


def test_a_suggestion_a_worker_runs_stays_running_for_one_query(
    workspace, user, django_assert_num_queries
):
    suggestion = running_suggestion(workspace, user)
    cache.set(runner.alive_key(suggestion.generation_id), 1, 30)  # a worker runs it

    with django_assert_num_queries(1):
        [shown] = open_suggestions(suggestion.draft)

    assert (shown.status, shown.generation.status) == ("running", "running")
