"""The workspace dashboard: drafts by status, recent generations, daily use, experiments."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from drafts.actions import finish_generation
from drafts.audit import record_generation
from drafts.models import Draft
from prompts.actions import duplicate_template
from prompts.experiments.actions import cast_vote, create_experiment, start_run
from studio.audit.models import AuditLog
from studio.audit.origin import Origin
from studio.audit.recording import record_ai_call
from studio.dashboard import board
from tests.generating import start_generation

pytestmark = pytest.mark.django_db


def generate(workspace, template, inputs, user, *, tokens=(100, 50), cost="0.000200") -> Draft:
    generation = start_generation(
        workspace=workspace, version=template.current_version(), inputs=inputs, user=user
    )
    finish_generation(
        generation_id=generation.pk,
        status="done",
        text="Bright light.",
        reasoning="",
        fields={"prompt_tokens": tokens[0], "completion_tokens": tokens[1], "cost": cost},
    )
    record_generation(generation.pk)  # what the runner does once a generation ends
    return generation.draft


def experiment_with_votes(workspace, template, inputs, user, wins: dict[str, int]):
    own = duplicate_template(template=template, workspace=workspace, user=user)
    version = own.current_version()
    experiment = create_experiment(
        workspace=workspace,
        name="Cooler copy?",
        user=user,
        variants=[{"name": "Current", "version": version}, {"name": "Cool", "version": version}],
    )
    variants = {v.name: v for v in experiment.variants.all()}
    voters = iter(range(1000))
    for name, count in wins.items():
        for _ in range(count):
            run = start_run(origin=Origin(), experiment=experiment, inputs=inputs, user=user)
            voter = type(user).objects.create_user(f"voter{next(voters)}-{experiment.pk}")
            cast_vote(run=run, voter=voter, choice="variant", winner=variants[name])
    return experiment


def url(workspace) -> str:
    return reverse("dashboard", args=[workspace.pk])


def test_login_is_required_and_other_users_get_a_404(client, workspace, other_user):
    assert client.get(url(workspace)).status_code == 302
    client.force_login(other_user)
    assert client.get(url(workspace)).status_code == 404


def test_an_empty_workspace_teaches_what_will_appear(client, user, workspace):
    client.force_login(user)

    html = client.get(url(workspace)).content.decode()

    assert "Nothing generated yet." in html
    assert "No experiment is running." in html
    assert 'data-status-count="draft"' in html and 'id="recent-generations"' not in html


def test_drafts_by_status_and_recent_generations(
    client, user, workspace, product_template, product_inputs
):
    first = generate(workspace, product_template, product_inputs, user)
    generate(workspace, product_template, product_inputs, user, tokens=(10, 5), cost="0.5")
    Draft.objects.filter(pk=first.pk).update(status=Draft.Status.APPROVED)
    client.force_login(user)

    response = client.get(url(workspace))

    counts = {value: n for value, _, n in response.context["statuses"]}
    assert counts == {"draft": 1, "review": 0, "approved": 1, "archived": 0}
    html = response.content.decode()
    assert html.count("data-generation=") == 2
    assert ">150<" in html and "$0.5000" in html


def test_the_charts_add_up_each_days_tokens_and_cost(workspace, product_template, user):
    inputs = {"product_name": "Lamp", "features": "Warm", "audience": "a", "tone": "friendly"}
    inputs |= {"words": "120", "language": "English"}
    generate(workspace, product_template, inputs, user, tokens=(100, 50), cost="0.25")
    generate(workspace, product_template, inputs, user, tokens=(30, 20), cost="0.75")
    old = generate(workspace, product_template, inputs, user, tokens=(999, 1), cost="9")
    today = timezone.localdate()
    long_ago = timezone.now() - datetime.timedelta(days=board.CHART_DAYS + 3)
    AuditLog.objects.filter(generation_id__in=old.generations.values("pk")).update(created=long_ago)
    # Billed calls only, as on every page: a cached answer and another workspace's call are out.
    record_ai_call(status="done", user=user, workspace=workspace, total_tokens=7, cached=True)
    record_ai_call(status="done", user=user, total_tokens=7, cost="1")

    tokens, cost = board.daily_use(workspace, today=today)

    assert len(tokens.bars) == board.CHART_DAYS and tokens.bars[-1].day == today
    assert tokens.bars[-1].value == 200 and tokens.total == 200  # the old one is out of range
    assert cost.bars[-1].value == pytest.approx(1.0)
    # The busiest day fills the chart; a day without use is a hairline at the bottom.
    assert tokens.bars[-1].y == 4 and tokens.bars[0].height == 1
    assert Decimal(str(cost.total)) == Decimal("1")


def test_experiment_runs_drafts_are_not_counted_or_listed(
    client, user, workspace, product_template, product_inputs
):
    """A side-by-side run writes a draft per column: the experiment's evidence, not work."""
    generate(workspace, product_template, product_inputs, user)
    experiment_with_votes(workspace, product_template, product_inputs, user, {"Cool": 1})
    assert Draft.objects.count() == 3
    client.force_login(user)

    response = client.get(url(workspace))

    counts = {value: n for value, _, n in response.context["statuses"]}
    assert counts == {"draft": 1, "review": 0, "approved": 0, "archived": 0}
    html = response.content.decode()
    assert html.count("data-generation=") == 1
    assert "?experiments=on" in html  # where they are, on demand


def test_running_experiments_show_their_leader(
    client, user, workspace, product_template, product_inputs
):
    wins = {"Cool": 3, "Current": 1}
    experiment_with_votes(workspace, product_template, product_inputs, user, wins)
    client.force_login(user)

    html = client.get(url(workspace)).content.decode()

    assert "Cooler copy?" in html
    assert "Cool leads with 75% of 4 decisive votes." in html
    assert "6 more votes needed to tell." in html


def test_a_clear_winner_is_called_significant(user, workspace, product_template, product_inputs):
    experiment_with_votes(workspace, product_template, product_inputs, user, {"Cool": 12})

    (summary,) = board.running_experiments(workspace)

    assert summary.leader.name == "Cool" and summary.share == 100 and summary.significant


def test_the_dashboard_makes_the_same_number_of_queries_for_any_amount_of_data(
    client, user, workspace, product_template, product_inputs, django_assert_max_num_queries
):
    client.force_login(user)
    generate(workspace, product_template, product_inputs, user)
    experiment_with_votes(workspace, product_template, product_inputs, user, {"Cool": 1})
    with CaptureQueriesContext(connection) as small:
        client.get(url(workspace))

    for _ in range(6):
        generate(workspace, product_template, product_inputs, user)
    for _ in range(3):
        experiment_with_votes(workspace, product_template, product_inputs, user, {"Current": 2})

    with django_assert_max_num_queries(len(small)):
        response = client.get(url(workspace))
    assert len(response.context["experiments"]) == 4


def test_workspace_and_draft_pages_link_to_the_dashboard_but_a_share_link_does_not(
    client, user, workspace, product_template, product_inputs
):
    from drafts.actions import share_version

    draft = generate(workspace, product_template, product_inputs, user)
    link = share_version(version=draft.versions.get(), user=user)
    client.force_login(user)

    for page in (workspace.get_absolute_url(), draft.get_absolute_url()):
        assert f'href="{url(workspace)}"' in client.get(page).content.decode()
    assert f'href="{url(workspace)}"' not in client.get(link.get_absolute_url()).content.decode()


def _usage_block(html: str) -> str:
    block = re.search(r"<div data-usage-today.*?</div>", html, re.S).group(0)
    return " ".join(re.sub(r"<[^>]+>", " ", block).split())


def test_the_dashboard_and_the_api_keys_page_show_the_same_usage_today(
    client, user, other_user, workspace
):
    """Issue 18 item 10: one definition of today's usage, on both pages and for the budget."""
    from studio.guardrails.budgets import tokens_used_today

    def call(**fields):
        fields = {"status": "done", "user": user, "workspace": workspace, "cost": "0.001"} | fields
        return record_ai_call(prompt_tokens=100, completion_tokens=50, **fields)

    call(channel="ui")
    call(channel="api", cost="0.0020")
    call(channel="openai", cost="0.0030")  # counted: 450 tokens, $0.0060
    call(cached=True)
    call(status="over_budget")
    call(status="rate_limited")
    call(user=other_user)
    yesterday = call()
    AuditLog.objects.filter(pk=yesterday.pk).update(
        created=timezone.now() - datetime.timedelta(days=1, hours=1)
    )
    client.force_login(user)

    keys = _usage_block(client.get(reverse("api:keys")).content.decode())
    board_html = _usage_block(client.get(url(workspace)).content.decode())

    assert "Tokens used today: 450" in keys and "Cost today: $0.0060." in keys
    assert board_html == re.sub(r" This month: \$[0-9.]+\.", "", keys)
    assert "Your calls since midnight (UTC) from the studio, the API and batches" in keys
    assert tokens_used_today(user) == 450
    # The workspace's chart counts the same way, and adds the other member's call.
    tokens, cost = board.daily_use(workspace)
    assert tokens.bars[-1].value == 600 and cost.bars[-1].value == pytest.approx(0.007)
