"""Numbers from requests are ASCII digits only: a superscript (``²``), another script's digit
or an enormous number is ignored or refused with a 4xx, never a 500, and changes nothing."""

import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drafts.actions import add_version
from drafts.models import Draft
from prompts.actions import duplicate_template, save_version
from prompts.experiments.actions import create_experiment
from studio.http import MAX_REQUEST_NUMBER, request_number
from tests.generating import start_generation
from tests.prompts import batch_helpers

experiment = batch_helpers.experiment
HOSTILE = ["²", "¹²", "٣", "①", "7²", "-1", " 1", "1\n", "+1", "1.0", "9" * 20, "9" * 5000, ""]
EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@given(st.integers(min_value=0, max_value=MAX_REQUEST_NUMBER))
def test_every_number_within_bounds_is_read(number):
    assert request_number(str(number)) == number
    assert request_number(str(number).zfill(19)) == number


@given(st.text())
def test_anything_read_is_ascii_digits_within_bounds(raw):
    number = request_number(raw)
    assert number is None or (raw.isascii() and raw.isdigit() and 0 <= number <= MAX_REQUEST_NUMBER)


@given(st.text(st.characters(categories=["Nd", "No", "Nl"], exclude_characters="0123456789")))
def test_no_other_digit_is_read(raw):
    assert request_number(raw) is None


@given(st.integers(min_value=MAX_REQUEST_NUMBER + 1))
def test_numbers_past_the_bound_are_not_read(number):
    assert request_number(str(number)) is None
    assert request_number("5", maximum=4) is None


@pytest.fixture
def draft(workspace, user, product_template):
    draft = Draft.objects.create(
        workspace=workspace,
        title="Aurora",
        created_by=user,
        template_version=product_template.current_version(),
    )
    for text in ("First.", "Second."):
        add_version(draft_id=draft.pk, text=text, source="generated", author_id=user.pk)
    return draft


@pytest.fixture
def own_template(workspace, product_template, user):
    template = duplicate_template(template=product_template, workspace=workspace, user=user)
    v1 = template.current_version()
    data = {f: getattr(v1, f) for f in ("system_prompt", "variables", "model", "thinking")}
    data |= {"user_prompt": v1.user_prompt + "\nAgain.", "temperature": None}
    save_version(template=template, data=data, user=user, note="Second")
    return template


@pytest.fixture
def streams(workspace, product_template, product_inputs, user) -> list[str]:
    """The SSE views: a generation's, and the assistant's on its draft."""
    version = product_template.current_version()
    generation = start_generation(
        workspace=workspace, version=version, inputs=product_inputs, user=user
    )
    return [
        reverse("drafts:events", args=[generation.pk]),
        reverse("assistant:events", args=[generation.draft_id]),
    ]


def _as_sent(header: str) -> str:
    """A header value as Django gets it: the bytes read as latin-1 (UTF-8 beyond latin-1),
    one line (servers refuse the rest before Django)."""
    header = header.replace("\r", "").replace("\n", "")
    try:
        header.encode("latin-1")
    except UnicodeEncodeError:
        return header.encode().decode("latin-1")
    return header


def _events_status(client, user, url, *, after=None, last_event_id=None) -> int:
    """The status of the real SSE view (async, as served), the stream left unread."""
    headers = {} if last_event_id is None else {"Last-Event-ID": _as_sent(last_event_id)}
    query = {} if after is None else {"after": after}

    async def watch() -> int:
        await client.aforce_login(user)
        response = await client.get(url, query, headers=headers)
        response.close()
        return response.status_code

    return async_to_sync(watch)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("value", HOSTILE)
def test_a_bad_last_event_id_or_after_replays_from_the_start(async_client, user, streams, value):
    for url in streams:
        assert _events_status(async_client, user, url, last_event_id=value) == 200
        assert _events_status(async_client, user, url, after=value) == 200


@pytest.mark.parametrize("value", HOSTILE)
def test_a_bad_version_in_the_draft_page_shows_the_latest(client, user, draft, value):
    client.force_login(user)

    response = client.get(reverse("drafts:detail", args=[draft.pk]), {"v": value})

    assert response.status_code == 200
    assert "Second." in response.content.decode()


@pytest.mark.parametrize("value", HOSTILE)
def test_a_bad_resolve_in_the_editor_is_ignored(client, user, draft, value):
    client.force_login(user)

    response = client.post(
        reverse("drafts:edit", args=[draft.pk]), {"text": "Mine.", "base": 2, "resolve": value}
    )

    assert response.status_code == 302
    assert draft.latest_version().text == "Mine."


@pytest.mark.parametrize("value", [v for v in HOSTILE if v])
def test_a_bad_version_with_a_status_is_refused_and_saves_nothing(client, user, draft, value):
    client.force_login(user)

    response = client.post(
        reverse("drafts:status", args=[draft.pk]), {"status": "approved", "v": value}
    )

    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.status == Draft.Status.DRAFT


def test_a_status_with_a_version_number_is_saved(client, user, draft):
    client.force_login(user)

    response = client.post(
        reverse("drafts:status", args=[draft.pk]), {"status": "approved", "v": 1}
    )

    assert response.status_code == 302 and response["Location"].endswith("?v=1")
    draft.refresh_from_db()
    assert draft.status == Draft.Status.APPROVED


@pytest.mark.parametrize("value", HOSTILE)
def test_a_bad_version_in_the_template_diff_shows_the_defaults(
    client, user, workspace, own_template, value
):
    client.force_login(user)
    url = reverse("prompts:diff", args=[workspace.pk, own_template.pk])

    assert client.get(url, {"a": value}).status_code == 200
    assert client.get(url, {"b": value}).status_code == 200


@pytest.mark.parametrize("value", [v for v in HOSTILE if v])
def test_bad_ids_in_template_and_experiment_forms_are_not_server_errors(
    client, user, workspace, own_template, value
):
    v1, v2 = own_template.versions.order_by("number")
    experiment = create_experiment(
        workspace=workspace,
        name="E",
        user=user,
        variants=[{"name": "One", "version": v1}, {"name": "Two", "version": v2}],
    )
    client.force_login(user)
    results = reverse("prompts:experiment_results", args=[workspace.pk, experiment.pk])

    export = client.get(reverse("prompts:export", args=[workspace.pk]), {"template": value})
    assert export.status_code == 200
    create = reverse("prompts:experiment_create", args=[workspace.pk])
    assert client.get(create, {"template": value}).status_code == 200
    assert client.post(results, {"declare": "1", "variant": value}).status_code == 404
    detail = own_template.get_absolute_url()
    assert client.post(detail, {"duplicate": "1", "target": value}).status_code == 404
    assert client.post(detail, {"label": "production", "version": value}).status_code == 404
    member = client.post(reverse("members", args=[workspace.pk]), {"member": value})
    assert member.status_code == 404


# Arbitrary text where a number is expected, on the real views: never a 500.
@pytest.mark.django_db(transaction=True)
@EXAMPLES
@given(value=st.text(max_size=30))
def test_any_text_as_an_sse_position_is_not_a_server_error(async_client, user, streams, value):
    for url in streams:
        assert _events_status(async_client, user, url, last_event_id=value) == 200
        assert _events_status(async_client, user, url, after=value) == 200


@EXAMPLES
@given(value=st.text(max_size=30))
def test_any_text_as_a_draft_version_is_not_a_server_error(client, user, draft, value):
    client.force_login(user)

    page = client.get(reverse("drafts:detail", args=[draft.pk]), {"v": value})
    edit = client.post(
        reverse("drafts:edit", args=[draft.pk]), {"text": "Mine.", "base": 2, "resolve": value}
    )
    status = client.post(reverse("drafts:status", args=[draft.pk]), {"status": "x", "v": value})

    assert page.status_code in (200, 404) and edit.status_code in (200, 302)  # 404: no such v
    assert status.status_code in (302, 400)
    draft.refresh_from_db()
    assert draft.status == Draft.Status.DRAFT  # an unknown status changes nothing either


@EXAMPLES
@given(a=st.text(max_size=30), b=st.text(max_size=30))
def test_any_text_as_template_diff_versions_is_not_a_server_error(
    client, user, workspace, own_template, a, b
):
    client.force_login(user)
    url = reverse("prompts:diff", args=[workspace.pk, own_template.pk])

    assert client.get(url, {"a": a, "b": b}).status_code == 200


@pytest.mark.parametrize("run, order", [("²", None), (None, "²,1"), (None, "1," + "9" * 5000)])
def test_a_review_vote_naming_a_bad_run_or_variant_finds_no_pair(experiment, user, run, order):
    from prompts.experiments import batch_review as review
    from tests.prompts.batch_helpers import finished_batch

    batch = finished_batch(experiment, user, products=1)
    pair = review.next_pair(batch, user)
    good_order = f"{pair.left.variant_id},{pair.right.variant_id}"

    assert review.pair_from_post(batch, str(pair.run.pk), good_order) == pair
    assert review.pair_from_post(batch, run or str(pair.run.pk), order or good_order) is None


@pytest.mark.parametrize("decision", ["accept:" + "9" * 5000, "accept:²", "reject:1\n2"])
def test_a_suggestion_decision_naming_a_bad_change_is_refused(client, user, draft, decision):
    from tests.drafts.test_suggestions_views import decide, suggested

    suggestion = suggested(draft, user, "Second, but formal.")
    client.force_login(user)

    assert decide(client, suggestion, decision, base=2).status_code == 400
    assert draft.versions.count() == 2
