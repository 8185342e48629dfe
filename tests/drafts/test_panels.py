"""The draft panel reads what it needs of the draft's generations in one query, and skips the
reads whose answer that query or the rows in hand already give (docs/decisions/0025-*.md):
each shortcut must show what the full reads showed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from drafts import generation as runner
from drafts.actions import add_version, share_version
from drafts.models import Draft, Generation, ShareLink
from drafts.panels import Generations, draft_panel_context, render_draft_panel
from drafts.suggestions import start_suggestion
from prompts.experiments.actions import cast_vote, create_experiment, start_run
from prompts.experiments.models import Experiment, Vote
from studio.audit.origin import Origin
from tests.generating import start_generation

TEXT = "# Aurora\n\nBright light.\n\n## Price\n\nFair.\n"


@pytest.fixture
def generated(workspace, product_template, product_inputs, user):
    """A draft as a generation leaves it: done, its text kept as version 1."""
    generation = start_generation(
        workspace=workspace,
        version=product_template.current_version(),
        inputs=product_inputs,
        user=user,
    )
    Generation.objects.filter(pk=generation.pk).update(
        status="done", text=TEXT, cost=Decimal("0.001250"), finished=timezone.now()
    )
    generation.refresh_from_db()
    add_version(
        draft_id=generation.draft_id,
        text=TEXT,
        source="generated",
        author_id=user.pk,
        generation=generation,
    )
    return generation


def _panel(draft_id, user, rf) -> str:
    request = rf.get("/")
    request.user = user
    return render_draft_panel(draft_id, request)


def test_a_fresh_draft_alone_is_its_version_list(generated, user, rf):
    """One version: no query for the list, and the list is that version, shown as the newest."""
    context = draft_panel_context(Draft.objects.get(pk=generated.draft_id))

    assert [v.number for v in context["versions"]] == [1] and context["version_count"] == 1
    assert context["shown"].number == 1 and context["is_latest"]
    assert context["shown"].text == TEXT and context["generation"] == generated


def test_with_a_second_version_the_list_is_read_and_the_newest_shown(generated, user, rf):
    add_version(draft_id=generated.draft_id, text="Edited.", source="edited", author_id=user.pk)

    context = draft_panel_context(Draft.objects.get(pk=generated.draft_id))
    html = _panel(generated.draft_id, user, rf)

    assert [v.number for v in context["versions"]] == [2, 1] and context["version_count"] == 2
    assert context["shown"].text == "Edited." and context["is_latest"]
    assert 'aria-current="true"' in html.split("v2 ·")[0].rsplit("<a", 1)[1]


def test_the_draft_cost_is_the_sum_of_every_generation_with_one(
    generated, workspace, product_template, product_inputs, user
):
    """As SQL's SUM: a suggestion's generation counts, one without a cost does not, and a
    draft none of whose generations has one has no total."""
    draft = Draft.objects.get(pk=generated.draft_id)
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind="shorter"
    )
    Generation.objects.filter(pk=suggestion.generation_id).update(cost=Decimal("0.000105"))
    Generation.objects.create(draft=draft, created_by=user, model="m", status="done")
    uncosted = start_generation(
        workspace=workspace,
        version=product_template.current_version(),
        inputs=product_inputs,
        user=user,
    )

    summary = Generations.of(draft)

    assert summary.cost == draft.generations.aggregate(total=Sum("cost"))["total"]
    assert summary.cost == Decimal("0.001355") and summary.suggested
    assert Generations.of(uncosted.draft).cost is None


def test_a_running_suggestion_is_not_a_whole_draft_generation(generated, user, rf):
    """Only a queued or running generation that writes the whole draft makes the panel look
    for it (and show it being recovered once no worker runs it)."""
    draft = Draft.objects.get(pk=generated.draft_id)
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind="shorter"
    )
    Generation.objects.filter(pk=suggestion.generation_id).update(status="running")

    assert not Generations.of(draft).drafting
    assert draft_panel_context(draft)["recovering"] is None


def test_a_lost_regenerate_shows_the_final_panel_recovering(generated, user, rf):
    lost = Generation.objects.create(
        draft_id=generated.draft_id,
        created_by=user,
        model="m",
        status="running",
        text="So far",
        created=timezone.now() - timedelta(hours=1),
    )
    Generation.objects.filter(pk=lost.pk).update(created=timezone.now() - timedelta(hours=1))

    html = _panel(generated.draft_id, user, rf)

    assert Generations.of(Draft.objects.get(pk=generated.draft_id)).drafting
    assert "data-recovering" in html and "So far" in html
    cache.set(runner.alive_key(lost.pk), 1, 30)  # a worker runs it after all
    assert "data-recovering" not in _panel(generated.draft_id, user, rf)


def test_only_active_read_only_links_are_listed(generated, user, rf):
    draft = Draft.objects.get(pk=generated.draft_id)
    assert draft_panel_context(draft)["shares"] == []
    kept = share_version(version=draft.versions.get(), user=user)
    revoked = share_version(version=draft.versions.get(), user=user)
    ShareLink.objects.filter(pk=revoked.pk).update(revoked=timezone.now())

    html = _panel(draft.pk, user, rf)

    assert draft_panel_context(draft)["shares"] == [kept]
    assert f'data-share="{kept.pk}"' in html and f'data-share="{revoked.pk}"' not in html


@pytest.mark.parametrize("blind", [True, False])
def test_an_experiment_column_that_wrote_an_older_generation_still_marks_the_panel(
    workspace, product_template, product_inputs, user, rf, blind
):
    """The column wrote version 1; version 2 is a regenerate of its own. The panel still finds
    the column among the draft's generations: a badge, or blind figures until the vote."""
    version = product_template.current_version()
    experiment = create_experiment(
        workspace=workspace,
        name="Cooler?",
        user=user,
        variants=[{"name": "Plain", "version": version}, {"name": "Cool", "version": version}],
    )
    Experiment.objects.filter(pk=experiment.pk).update(blind=blind)
    run = start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)
    column = run.columns.select_related("generation", "variant").get(position=0)
    Generation.objects.filter(pk=column.generation_id).update(status="done", text=TEXT)
    draft_id = column.generation.draft_id
    add_version(draft_id=draft_id, text=TEXT, source="generated", author_id=user.pk,
                generation=Generation.objects.get(pk=column.generation_id))  # fmt: skip
    again = Generation.objects.create(
        draft_id=draft_id, created_by=user, model="deepseek-flash", status="done",
        finished=timezone.now(), duration_ms=5,
    )  # fmt: skip
    add_version(draft_id=draft_id, text="Again.", source="generated", author_id=user.pk,
                generation=again)  # fmt: skip

    html = _panel(draft_id, user, rf)

    assert Generations.of(Draft.objects.get(pk=draft_id)).by_columns
    assert ("data-variant-badge" in html) == (not blind)
    assert (f"Variant: {column.variant.name}" in html) == (not blind)
    assert ("data-blinded" in html) == blind
    cast_vote(run=run, voter=user, choice=Vote.Choice.TIE, winner=None)
    assert "data-blinded" not in _panel(draft_id, user, rf)


def test_a_version_added_between_the_reads_is_the_one_shown(generated, user, monkeypatch):
    """The newest two are read first, the list after: a version saved in between is the
    newest in the list, and the panel shows it, not the one read before."""
    from drafts.models import DraftVersionQuerySet

    add_version(draft_id=generated.draft_id, text="Second.", source="edited", author_id=user.pk)
    listed = DraftVersionQuerySet.listed

    def listed_after_a_save(queryset):
        add_version(draft_id=generated.draft_id, text="Third.", source="edited", author_id=user.pk)
        monkeypatch.setattr(DraftVersionQuerySet, "listed", listed)
        return listed(queryset)

    monkeypatch.setattr(DraftVersionQuerySet, "listed", listed_after_a_save)

    context = draft_panel_context(Draft.objects.get(pk=generated.draft_id))

    assert [v.number for v in context["versions"]] == [3, 2, 1]
    assert context["shown"].text == "Third." and context["is_latest"]


def test_open_suggestions_show_even_when_no_generation_of_the_draft_is_theirs(
    generated, workspace, user, rf
):
    """The summary finds no suggestion's generation among the draft's, yet one is open (its
    generation moved to another draft): the existence check still finds it."""
    draft = Draft.objects.get(pk=generated.draft_id)
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind="shorter"
    )
    elsewhere = Draft.objects.create(workspace=workspace, title="Elsewhere", created_by=user)
    Generation.objects.filter(pk=suggestion.generation_id).update(draft=elsewhere, status="done")

    html = _panel(draft.pk, user, rf)

    assert not Generations.of(draft).suggested
    assert f'data-suggestion="{suggestion.pk}"' in html


def test_an_open_suggestions_diff_is_worked_out_once_per_pair_of_texts(
    generated, user, rf, monkeypatch
):
    """Each panel shows every open suggestion's word diff; it is worked out once for its two
    texts, and again once they change (a change taken or left)."""
    from drafts import section_panels
    from drafts.models import Suggestion

    draft = Draft.objects.get(pk=generated.draft_id)
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind="shorter"
    )
    Generation.objects.filter(pk=suggestion.generation_id).update(status="done")
    Suggestion.objects.filter(pk=suggestion.pk).update(
        status="pending", proposed=TEXT.replace("Bright light", "Warm light")
    )
    diffs = []
    diff_texts = section_panels.diff_texts
    monkeypatch.setattr(section_panels, "diff_texts", lambda *a: diffs.append(a) or diff_texts(*a))

    first, again = _panel(draft.pk, user, rf), _panel(draft.pk, user, rf)
    Suggestion.objects.filter(pk=suggestion.pk).update(proposed=TEXT.replace("Fair", "Low"))
    changed = _panel(draft.pk, user, rf)

    def diff(html):
        return html.split("data-diff", 1)[1].split("</div>", 1)[0]

    assert len(diffs) == 2 and diff(first) == diff(again)
    assert "Warm" in first and "Low" not in first
    assert "Low" in changed and "Warm" not in changed


def test_the_panels_three_questions_come_with_the_draft_and_answer_as_asked_alone(
    generated, workspace, user, rf
):
    """``with_panel_flags()``: a working share link, an open suggestion, a marketing template,
    each as its own query would answer it (docs/decisions/0039-*.md)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from prompts.models import PromptTemplate

    def answers(draft_id) -> list[tuple[bool, bool, bool]]:
        plain = Draft.objects.get(pk=draft_id)
        flagged = Draft.objects.with_panel_flags().get(pk=draft_id)
        with CaptureQueriesContext(connection) as asked:
            got = (
                flagged.has_working_shares(),
                flagged.has_open_suggestions(),
                flagged.offers_headlines(),
            )
        assert not asked.captured_queries  # in hand
        return [
            (plain.has_working_shares(), plain.has_open_suggestions(), plain.offers_headlines()),
            got,
        ]

    draft = Draft.objects.get(pk=generated.draft_id)
    plain, flagged = answers(draft.pk)
    assert plain == flagged == (False, False, True)

    link = share_version(version=draft.versions.get(), user=user)
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind="shorter"
    )
    PromptTemplate.objects.filter(versions=draft.template_version_id).update(purpose="docs")
    plain, flagged = answers(draft.pk)
    assert plain == flagged == (True, True, False)

    ShareLink.objects.filter(pk=link.pk).update(revoked=timezone.now())
    suggestion.__class__.objects.filter(pk=suggestion.pk).update(status="rejected")
    plain, flagged = answers(draft.pk)
    assert plain == flagged == (False, False, False)


def test_the_final_panel_asks_no_existence_question_of_its_own(generated, user, rf):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as asked:
        _panel(generated.draft_id, user, rf)

    assert not [q for q in asked.captured_queries if q["sql"].startswith('SELECT 1 AS "a"')]
