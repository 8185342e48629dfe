"""Every 404 a person can reach (DEBUG off, as in production) is the studio's own page
(templates/404.html on errors/page.html), in their language: never Django's plain one."""

import pytest
from django.test import Client
from django.urls import reverse

from drafts.actions import add_version
from drafts.models import Draft

HTMX = {"HX-Request": "true"}


@pytest.fixture
def draft(workspace, user, product_template):
    draft = Draft.objects.create(
        workspace=workspace,
        title="Aurora launch",
        created_by=user,
        template_version=product_template.current_version(),
    )
    add_version(draft_id=draft.pk, text="Bright light.", source="generated", author_id=user.pk)
    return draft


def _studio_404(response, heading="Page not found") -> str:
    html = response.content.decode()
    assert response.status_code == 404
    assert "studio.css" in html and heading in html  # errors/page.html, the studio's page
    assert "Traceback" not in html and "URLconf" not in html and "matches the given" not in html
    return html


@pytest.mark.parametrize(
    "url",
    [
        lambda d: "/no-such-page/",
        lambda d: reverse("drafts:detail", args=[d.pk]),  # another workspace's draft
        lambda d: reverse("drafts:export", args=[d.pk, 1, "docx"]),
        lambda d: reverse("drafts:compare", args=[d.pk]),
        lambda d: reverse("drafts:list", args=[d.workspace_id]),
        lambda d: reverse("drafts:detail", args=[d.pk + 1000]),  # no such draft
    ],
    ids=["unknown", "detail", "export", "compare", "list", "missing"],
)
def test_a_signed_in_person_gets_the_studios_404_page(client, draft, other_user, url):
    client.force_login(other_user)

    _studio_404(client.get(url(draft)))


def test_an_unknown_export_format_is_the_studios_404_page(client, draft, user):
    client.force_login(user)

    _studio_404(client.get(reverse("drafts:export", args=[draft.pk, 1, "exe"])))


def test_an_htmx_request_for_someone_elses_draft_is_the_studios_404_page(client, draft, other_user):
    client.force_login(other_user)

    _studio_404(client.get(reverse("drafts:detail", args=[draft.pk]), headers=HTMX))


def test_an_anonymous_visitor_gets_the_studios_404_page():
    html = _studio_404(Client().get("/no-such-page/"))

    assert "Back to the studio" in html


def test_the_404_page_speaks_chinese(client, draft, other_user):
    client.force_login(other_user)
    client.cookies["django_language"] = "zh-hans"

    html = _studio_404(client.get(reverse("drafts:detail", args=[draft.pk])), "找不到页面")

    assert 'lang="zh-hans"' in html and "Page not found" not in html
