"""The assistant panel: a bounded, per-user, per-draft conversation whose answers stream,
are sanitized, audited and rate-limited like generation."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import respx
from django.urls import reverse

from drafts.actions import add_version
from drafts.models import Draft, Generation
from studio.assistant import actions, runner
from studio.assistant.models import AssistantMessage
from studio.audit.models import AuditLog
from studio.workspaces.models import Membership
from tests.conftest import CHAT_URL, USAGE, chunk, sse_body, sse_response, streaming_response
from tests.generating import start_generation

HTMX = {"HX-Request": "true"}
DRAFT_TEXT = "# Aurora\n\nA warm desk lamp for designers."


def make_draft(workspace, template, inputs, user) -> Draft:
    version = template.current_version()
    generation = start_generation(workspace=workspace, version=version, inputs=inputs, user=user)
    Generation.objects.filter(pk=generation.pk).update(status="done")
    add_version(
        draft_id=generation.draft_id,
        text=DRAFT_TEXT,
        source="generated",
        author_id=user.pk,
        generation=generation,
    )
    return Draft.objects.get(pk=generation.draft_id)


@pytest.fixture
def draft(workspace, product_template, product_inputs, user):
    return make_draft(workspace, product_template, product_inputs, user)


def converse(draft, user, rounds: int, window: int = 10) -> list[dict]:
    """``rounds`` questions, each answered at once; the messages the last one would send."""
    sent: list[dict] = []
    for n in range(1, rounds + 1):
        answer, sent = actions.ask(draft=draft, user=user, question=f"Q{n}", window=window)
        AssistantMessage.objects.filter(pk=answer.pk).update(content=f"A{n}", status="done")
    return sent


async def finish(message_id: int) -> None:
    if task := runner.task_for(message_id):
        await task


def test_the_window_keeps_the_last_ten_messages(draft, user):
    sent = converse(draft, user, rounds=6)
    stored = AssistantMessage.objects.conversation(user=user, draft=draft)
    assert [m.content for m in stored] == [
        "Q2",
        "A2",
        "Q3",
        "A3",
        "Q4",
        "A4",
        "Q5",
        "A5",
        "Q6",
        "A6",
    ]
    # Sent with Q6: the draft, then the last ten messages that begin with a question.
    assert sent[0]["role"] == "system" and DRAFT_TEXT in sent[0]["content"]
    assert [m["content"] for m in sent[1:]] == [
        "Q2",
        "A2",
        "Q3",
        "A3",
        "Q4",
        "A4",
        "Q5",
        "A5",
        "Q6",
    ]


def test_the_window_size_is_a_setting(draft, user, settings):
    sent = converse(draft, user, rounds=3, window=4)
    assert [m["content"] for m in sent[1:]] == ["Q2", "A2", "Q3"]
    assert AssistantMessage.objects.conversation(user=user, draft=draft).count() == 4


def test_conversations_are_per_user_and_per_draft(
    client, draft, user, other_user, workspace, product_template, product_inputs
):
    Membership.objects.create(workspace=workspace, user=other_user, role="editor")
    second = make_draft(workspace, product_template, product_inputs, user)
    converse(draft, user, rounds=1)
    converse(second, other_user, rounds=1)
    client.force_login(other_user)
    page = client.get(reverse("assistant:panel", args=[draft.pk]), headers=HTMX).content.decode()
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)  # random letters
    assert "Q1" not in page and "No questions yet" in page
    # The other member's Clear empties only their own conversation.
    client.post(reverse("assistant:clear", args=[draft.pk]), headers=HTMX)
    assert AssistantMessage.objects.conversation(user=user, draft=draft).count() == 2
    client.post(reverse("assistant:clear", args=[second.pk]), headers=HTMX)
    assert not AssistantMessage.objects.filter(user=other_user).exists()


@pytest.mark.parametrize("name", ["panel", "ask", "clear", "events"])
def test_a_stranger_gets_404(client, draft, other_user, name):
    client.force_login(other_user)
    url = reverse(f"assistant:{name}", args=[draft.pk])
    method = client.post if name in ("ask", "clear") else client.get
    assert method(url, {"question": "Q"}).status_code == 404


def test_the_draft_page_shows_the_users_conversation(client, draft, user):
    converse(draft, user, rounds=1)
    client.force_login(user)
    page = client.get(draft.get_absolute_url()).content.decode()
    assert 'id="assistant-panel"' in page and "Q1" in page and "Clear conversation" in page


def test_clear_conversation(client, draft, user):
    converse(draft, user, rounds=2)
    client.force_login(user)
    response = client.post(reverse("assistant:clear", args=[draft.pk]), headers=HTMX)
    assert 'id="assistant-panel"' in response.content.decode()
    assert not AssistantMessage.objects.filter(user=user).exists()


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_only_the_window_is_sent_upstream_and_the_call_is_audited(
    async_client, draft, user, settings
):
    settings.ASSISTANT_CONTEXT_MESSAGES = 4
    route = respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["It is ", "**clear**."])))
    await async_client.aforce_login(user)
    url = reverse("assistant:ask", args=[draft.pk])
    for n in (1, 2, 3):
        response = await async_client.post(url, {"question": f"Q{n}"}, headers=HTMX)
        assert response.status_code == 200
        await finish((await AssistantMessage.objects.alatest("pk")).pk)
    sent = json.loads(route.calls.last.request.content)["messages"]
    assert sent[0]["role"] == "system" and DRAFT_TEXT in sent[0]["content"]
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "Q2"),
        ("assistant", "It is **clear**."),
        ("user", "Q3"),
    ]
    rows = [row async for row in AuditLog.objects.order_by("pk")]
    assert len(rows) == 3
    last = rows[-1]
    assert (last.user_id, last.workspace_id, last.status) == (user.pk, draft.workspace_id, "ok")
    assert last.response == "It is **clear**." and last.total_tokens == 17
    assert "Q3" in last.prompt and "Q1" not in last.prompt and last.channel == "ui"


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_hostile_output_is_sanitized(async_client, draft, user):
    hostile = '<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror="alert(3)">'
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body([hostile])))
    await async_client.aforce_login(user)
    await async_client.post(reverse("assistant:ask", args=[draft.pk]), {"question": "Q"})
    await finish((await AssistantMessage.objects.alatest("pk")).pk)
    stream = await async_client.get(reverse("assistant:events", args=[draft.pk]))
    final = b"".join([chunk async for chunk in stream.streaming_content]).decode()
    page = (await async_client.get(reverse("assistant:panel", args=[draft.pk]))).content.decode()
    assert "event: done" in final
    for html in (final, page):
        assert "<script>alert" not in html and 'href="javascript' not in html
        assert "<img" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text, harmless


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_the_answer_streams(async_client, draft, user):
    """The first words reach the browser while the model is still writing the rest."""
    gate = asyncio.Event()

    async def upstream():
        yield chunk({"role": "assistant", "content": ""}) + chunk({"content": "One "})
        await gate.wait()  # the rest only once the test has seen the first words
        yield chunk({"content": "two."}) + chunk({"content": ""}, finish="stop", usage=USAGE)
        yield b"data: [DONE]\n\n"

    respx.post(CHAT_URL).mock(return_value=streaming_response(upstream()))
    await async_client.aforce_login(user)
    response = await async_client.post(
        reverse("assistant:ask", args=[draft.pk]), {"question": "Count"}, headers=HTMX
    )
    html = response.content.decode()
    assert f'sse-connect="/drafts/{draft.pk}/assistant/events/?after=0"' in html
    assert 'sse-swap="delta,block"' in html and 'sse-close="done"' in html
    stream = await async_client.get(reverse("assistant:events", args=[draft.pk]))
    assert stream["Content-Type"] == "text/event-stream"
    frames = aiter(stream.streaming_content)
    first = (await anext(frames)).decode()
    assert "event: delta" in first and "data: One " in first
    gate.set()
    rest = [frame.decode() async for frame in frames]
    assert "event: done" in rest[-1] and "<p>One two.</p>" in rest[-1]
    message = await AssistantMessage.objects.alatest("pk")
    await finish(message.pk)
    await message.arefresh_from_db()
    assert (message.status, message.content) == ("done", "One two.")


def test_an_empty_question_is_refused_in_place(client, draft, user):
    client.force_login(user)
    response = client.post(
        reverse("assistant:ask", args=[draft.pk]), {"question": " "}, headers=HTMX
    )
    assert "Type a question first." in response.content.decode()
    assert not AssistantMessage.objects.exists()


def test_asking_is_rate_limited_like_generating(client, draft, user, settings):
    settings.RATELIMIT_ROUTES = {"assistant:ask": "1/m"}
    client.force_login(user)
    url = reverse("assistant:ask", args=[draft.pk])
    client.post(url, {"question": ""}, headers=HTMX)
    response = client.post(url, {"question": ""}, headers=HTMX)
    assert response.status_code == 429 and response["HX-Retarget"] == "#toasts"


SECRET_QUESTION = "Can I publish sk-abcdefghijklmnopqrstuvwx here?"


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        (SECRET_QUESTION, "it contains an API secret key (sk-…)"),
        ("Why? " * 801, "This text is 4,004 characters long; the limit is 4,000."),
    ],
    ids=["blocked", "too-long"],
)
def test_a_question_that_may_not_be_sent_comes_back_as_typed(client, draft, user, question, reason):
    """Nothing is saved or sent (no silent cut at 4,000 characters either); the reason is
    beside the question, which stays in the field."""
    client.force_login(user)
    with respx.mock(assert_all_called=False) as upstream:
        route = upstream.post(CHAT_URL).mock(return_value=sse_response(sse_body(["No."])))
        response = client.post(
            reverse("assistant:ask", args=[draft.pk]), {"question": question}, headers=HTMX
        )

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert reason in html and 'aria-describedby="assistant-question-error"' in html
    assert f">{question}</textarea>" in html  # as typed, every character
    assert not AssistantMessage.objects.exists() and not route.called


def test_without_htmx_a_refused_question_is_shown_on_the_assistant_page(client, draft, user):
    client.force_login(user)

    url = reverse("assistant:ask", args=[draft.pk])
    response = client.post(url, {"question": SECRET_QUESTION})

    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "an API secret key (sk-…)" in html and f">{SECRET_QUESTION}</textarea>" in html
    assert not AssistantMessage.objects.exists()


def test_a_draft_holding_a_blocked_pattern_is_not_sent_with_a_question(
    client, workspace, product_template, product_inputs, user
):
    draft = make_draft(workspace, product_template, product_inputs, user)
    add_version(
        draft_id=draft.pk,
        text="Login: AKIAABCDEFGHIJKLMNOP",
        source="edited",
        author_id=user.pk,
    )
    client.force_login(user)

    response = client.post(
        reverse("assistant:ask", args=[draft.pk]), {"question": "Is this clear?"}, headers=HTMX
    )

    html = response.content.decode()
    assert "an AWS access key (in the draft)" in html and ">Is this clear?</textarea>" in html
    assert not AssistantMessage.objects.exists()


def test_the_whole_prompt_is_capped_too(client, draft, user, settings):
    settings.PROMPT_MAX_CHARS = 100  # the question fits; with the draft the prompt does not
    client.force_login(user)

    response = client.post(
        reverse("assistant:ask", args=[draft.pk]), {"question": "Short?"}, headers=HTMX
    )

    html = response.content.decode()
    assert "The prompt is" in html and "the limit is 100" in html and ">Short?</textarea>" in html
    assert not AssistantMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_an_answer_is_capped_by_the_budget_left(async_client, draft, user, settings):
    """The assistant's answer counts against the daily budget: DeepSeek is asked for no more
    than the user has left, and the reservation is given back once it is audited."""
    from django.core.cache import cache

    from studio.deepseek.pricing import estimate_prompt_tokens
    from studio.guardrails.budgets import _reserved_key

    settings.AI_DAILY_TOKEN_BUDGET = 1500
    route = respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Short."])))
    await async_client.aforce_login(user)

    await async_client.post(reverse("assistant:ask", args=[draft.pk]), {"question": "Q"})
    await finish((await AssistantMessage.objects.alatest("pk")).pk)

    sent = json.loads(route.calls.last.request.content)
    assert estimate_prompt_tokens(sent["messages"]) + sent["max_tokens"] == 1500
    assert await cache.aget(_reserved_key(user.pk)) == 0
