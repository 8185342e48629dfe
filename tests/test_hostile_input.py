"""Hostile input: payloads in model output and in forms are neutralised, oversized and
malformed requests get clear errors, and nothing stored is corrupted."""

from html.parser import HTMLParser

import pytest
import respx
from django.test import Client
from django.urls import reverse

from drafts import generation as runner
from drafts.generation import get_log
from drafts.models import Draft, Generation
from tests.conftest import CHAT_URL, sse_body, sse_response

HTMX = {"HX-Request": "true"}

# What a prompt-injected model might answer: markup that would act if it reached the DOM.
HOSTILE_OUTPUT = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    '<div hx-get="/admin/" hx-trigger="load" hx-target="body">owned</div>',
    "[click](javascript:alert(1))",
    '<a href="/" hx-post="/generations/1/cancel/">x</a>',
]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.found.append((tag, dict(attrs)))


def assert_inert(html: str) -> None:
    """No element the payloads could have created: no handlers, no foreign scripts, no
    htmx attributes pointing where the studio's own templates never do."""
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.found:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert tag != "script" or (attrs.get("src") or "").startswith("/static/"), attrs
        assert not (attrs.get("href") or "").lower().startswith("javascript"), attrs
        assert attrs.get("hx-trigger") != "load" and attrs.get("hx-get") != "/admin/", attrs
        assert tag != "img", attrs


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_hostile_model_output_is_escaped_in_the_stream_and_sanitized_at_the_end(
    async_client, user, workspace, product_template, product_inputs
):
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(HOSTILE_OUTPUT)))
    await async_client.aforce_login(user)
    version = await product_template.versions.afirst()

    await async_client.post(
        reverse("drafts:generate", args=[workspace.pk]),
        {"version": version.pk, **product_inputs},
        headers=HTMX,
    )
    generation = await Generation.objects.aget()
    if task := runner.task_for(generation.pk):
        await task
    response = await async_client.get(reverse("drafts:events", args=[generation.pk]))
    stream = b"".join([part async for part in response.streaming_content]).decode()
    page = await async_client.get(reverse("drafts:detail", args=[generation.draft_id]))

    deltas = [f for f in stream.split("\n\n") if "event: delta" in f]
    assert deltas and all("<" not in frame for frame in deltas)  # text, never markup
    assert_inert(stream.split("event: done", 1)[1])  # the final, rendered panel
    assert_inert(page.content.decode())
    # Stored exactly as the model wrote it: neutralised on the way out, never corrupted.
    assert generation.pk and (await Generation.objects.aget(pk=generation.pk)).text == "".join(
        HOSTILE_OUTPUT
    )
    items = get_log(generation.pk).items
    assert "".join(text for kind, text in items if kind == "content") == "".join(HOSTILE_OUTPUT)
    # Finished Markdown blocks go out as HTML: rendered and sanitized as the final panel is.
    blocks = [f for f in stream.split("\n\n") if "event: block" in f]
    assert blocks and "&lt;script&gt;" in blocks[0]
    assert_inert("\n".join(line[6:] for block in blocks for line in block.split("\n")[2:]))


def test_hostile_form_input_is_shown_as_text(client, user, workspace, product_template):
    from tests.generating import start_generation

    client.force_login(user)
    payload = '<script>alert(1)</script><div hx-get="/admin/" hx-trigger="load">'
    generation = start_generation(
        workspace=workspace,
        version=product_template.current_version(),
        inputs={"product_name": payload, "features": "x", "audience": "a", "tone": "bold",
                "words": 100, "language": "English"},
        user=user,
    )  # fmt: skip

    for url in (reverse("drafts:detail", args=[generation.draft_id]), workspace.get_absolute_url()):
        html = client.get(url).content.decode()
        assert_inert(html)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert Draft.objects.get().title.endswith(payload)  # kept verbatim


def test_an_oversized_field_gets_a_clear_error_and_creates_nothing(
    client, user, workspace, product_template, product_inputs
):
    client.force_login(user)
    data = {
        "version": product_template.current_version().pk,
        **product_inputs,
        "features": "x" * 50_000,
    }

    response = client.post(reverse("drafts:generate", args=[workspace.pk]), data, headers=HTMX)

    assert response.status_code == 200
    assert "at most 2000 characters" in response.content.decode()
    assert not Draft.objects.exists()


def test_an_oversized_body_is_refused_and_creates_nothing(client, user, workspace, settings):
    client.force_login(user)
    body = "features=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = client.post(
        reverse("drafts:generate", args=[workspace.pk]),
        body,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    # A page that says why (handler400), not Django's one line.
    assert "The request is too large: a form may send at most 2.5" in response.content.decode()
    assert not Draft.objects.exists()


def test_invalid_utf8_in_a_form_is_not_a_server_error(
    client, user, workspace, product_template, product_inputs
):
    client.force_login(user)
    version = product_template.current_version().pk
    body = f"version={version}&product_name=%FF%FE%FD&features=ok".encode()

    response = client.post(
        reverse("drafts:generate", args=[workspace.pk]),
        body,
        content_type="application/x-www-form-urlencoded",
        headers=HTMX,
    )

    assert response.status_code == 200  # the form comes back with its errors
    assert "This field is required." in response.content.decode()
    assert not Draft.objects.exists()


@pytest.mark.parametrize(
    "name, arg",
    [
        ("drafts:generate", "workspace"),
        ("drafts:cancel", "generation"),
        ("drafts:follow_up", "draft"),
        ("set_language", None),
        ("logout", None),
    ],
)
def test_unsafe_requests_without_a_csrf_token_are_refused(user, draft_ids, name, arg):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = reverse(name, args=[draft_ids[arg]] if arg else [])

    response = client.post(url, {"action": "regenerate"})

    assert response.status_code == 403


@pytest.fixture
def draft_ids(workspace, product_template, product_inputs, user):
    from tests.generating import start_generation

    generation = start_generation(
        workspace=workspace,
        version=product_template.current_version(),
        inputs=product_inputs,
        user=user,
    )
    return {"workspace": workspace.pk, "generation": generation.pk, "draft": generation.draft_id}
