"""No <form> inside another: a browser drops the inner tag, so a submit button after it
belongs to no form and does nothing (a crispy form rendered with its own form tag)."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from prompts.actions import save_brand_voice


class _FormNesting(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.deepest = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "form":
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.depth -= 1


def deepest_form_nesting(html: str) -> int:
    parser = _FormNesting()
    parser.feed(html)
    return parser.deepest


@pytest.fixture
def voice(workspace):
    return save_brand_voice(workspace=workspace, name="Calm", text="Short sentences.").voice


@pytest.mark.parametrize(
    "page",
    [
        lambda ws, voice: reverse("api:keys"),
        lambda ws, voice: reverse("home"),
        lambda ws, voice: ws.get_absolute_url(),
        lambda ws, voice: reverse("prompts:create", args=[ws.pk]),
        lambda ws, voice: reverse("prompts:voices", args=[ws.pk]),
        lambda ws, voice: reverse("prompts:voice", args=[ws.pk, voice.pk]),
    ],
    ids=["api-keys", "home", "workspace", "template-create", "voices", "voice"],
)
def test_pages_with_crispy_forms_nest_no_form(client, user, workspace, demo_templates, voice, page):
    client.force_login(user)

    response = client.get(page(workspace, voice))

    assert response.status_code == 200
    assert deepest_form_nesting(response.content.decode()) == 1
