"""The campaigns API: create from a brief, generate (202 + progress), read deliverables and
their checks; roles, isolation, errors field by field, paging, rate limits and the audit."""

from __future__ import annotations

import pytest
import respx
from django.test import AsyncClient

from drafts import generation as runner
from drafts.models import Draft, Generation
from studio.api.models import ApiKey
from studio.audit.models import AuditLog
from studio.campaigns.models import Campaign, Deliverable
from studio.workspaces.models import Membership
from tests.conftest import CHAT_URL, sse_body, sse_response

JSON = "application/json"


def test_a_campaign_is_created_from_a_brief(post_campaign, workspace, brief, auth, user):
    response = post_campaign(brief, auth)

    body = response.json()
    assert response.status_code == 201, body
    campaign = Campaign.objects.get()
    assert response["Location"] == body["url"] == f"http://testserver/campaigns/{campaign.pk}/"
    assert (campaign.owner, campaign.workspace, str(campaign.ends_on)) == (
        user,
        workspace,
        "2027-03-31",
    )
    assert (body["title"], body["owner"], body["deliverable_count"]) == (
        "Lumen lamp launch",
        "hamlet",
        2,
    )
    headlines, email = body["deliverables"]
    assert (headlines["channel"], headlines["count"], headlines["template_name"]) == (
        "google_ads_headline",
        3,
        "Ad headline set",
    )
    assert email["overrides"] == {"cta": "Pre-order now"}
    assert (email["status"], email["text"], email["check"], email["review_state"]) == (
        "not_started",
        None,
        None,
        "draft",
    )
    progress = body["progress"]
    assert (progress["deliverables"], progress["not_started"], progress["finished"]) == (2, 2, True)
    assert list(Deliverable.objects.values_list("template_version__template__slug", flat=True)) == [
        "ad-headlines",
        "marketing-email",
    ]


def test_campaigns_are_listed_newest_first_a_page_at_a_time(client, workspace, auth):
    for title in ("One", "Two", "Three"):
        Campaign.objects.create(workspace=workspace, title=title)
    url = f"/api/ai/workspaces/{workspace.pk}/campaigns"

    first = client.get(url, {"limit": 2}, headers=auth).json()
    rest = client.get(url, {"limit": 2, "offset": 2}, headers=auth).json()
    refused = client.get(url, {"limit": 0}, headers=auth)

    assert [c["title"] for c in first + rest] == ["Three", "Two", "One"]
    assert first[0]["deliverable_count"] == 0 and first[0]["owner"] is None
    assert refused.status_code == 422
    assert refused.json()["error"]["errors"][0]["param"] == "query.limit"


def test_a_reviewers_key_reads_but_cannot_create_or_generate(
    client, post_campaign, workspace, brief, created, other_user, other_auth
):
    Membership.objects.create(workspace=workspace, user=other_user, role="reviewer")
    campaign, deliverable = created["id"], created["deliverables"][0]["id"]

    reads = [
        client.get(url, headers=other_auth)
        for url in (
            f"/api/ai/workspaces/{workspace.pk}/campaigns",
            f"/api/ai/campaigns/{campaign}",
            f"/api/ai/campaigns/{campaign}/progress",
            f"/api/ai/deliverables/{deliverable}",
        )
    ]
    create = post_campaign(brief, other_auth)
    generate = client.post(f"/api/ai/campaigns/{campaign}/generate", headers=other_auth)

    assert [r.status_code for r in reads] == [200, 200, 200, 200]
    for refused in (create, generate):
        error = refused.json()["error"]
        assert (refused.status_code, error["code"]) == (403, "forbidden")
        assert "(Reviewer)" in error["message"]
    assert Campaign.objects.count() == 1 and not Generation.objects.exists()


def test_another_workspaces_campaigns_are_404_never_data(
    client, post_campaign, workspace, brief, created, other_auth
):
    campaign, deliverable = created["id"], created["deliverables"][0]["id"]
    answers = [
        client.get(f"/api/ai/workspaces/{workspace.pk}/campaigns", headers=other_auth),
        client.get(f"/api/ai/campaigns/{campaign}", headers=other_auth),
        client.get(f"/api/ai/campaigns/{campaign}/progress", headers=other_auth),
        client.get(f"/api/ai/deliverables/{deliverable}", headers=other_auth),
        client.post(f"/api/ai/campaigns/{campaign}/generate", headers=other_auth),
        post_campaign(brief, other_auth),
    ]

    for answer in answers:
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"
        assert "Lumen" not in answer.content.decode()
    assert Campaign.objects.count() == 1 and not Generation.objects.exists()


def test_no_key_is_a_401(client, created):
    assert client.get(f"/api/ai/campaigns/{created['id']}").status_code == 401


def test_generating_a_campaign_without_deliverables_is_a_422(client, workspace, auth):
    campaign = Campaign.objects.create(workspace=workspace, title="Empty")

    response = client.post(f"/api/ai/campaigns/{campaign.pk}/generate", headers=auth)

    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (422, "no_deliverables")


def test_generating_again_while_it_generates_is_a_422_naming_each_deliverable(
    client, created, auth, monkeypatch
):
    monkeypatch.setattr(runner, "launch", lambda generation: None)  # stays queued
    url = f"/api/ai/campaigns/{created['id']}/generate"

    first = client.post(url, headers=auth)
    again = client.post(url, headers=auth)

    assert first.status_code == 202 and first.json()["queued"] == 2
    error = again.json()["error"]
    assert (again.status_code, error["code"]) == (422, "not_generated")
    assert [e["message"] for e in error["errors"]] == [
        "Google Ads headline: Already generating.",
        "Email: Already generating.",
    ]
    assert Generation.objects.count() == 2


def test_generating_over_the_daily_budget_is_a_429_and_audited(
    client, created, auth, user, settings
):
    settings.AI_DAILY_TOKEN_BUDGET = 10
    AuditLog.objects.create(user=user, status="ok", total_tokens=10)

    response = client.post(f"/api/ai/campaigns/{created['id']}/generate", headers=auth)

    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert response.json()["error"]["code"] == "daily_budget_exceeded"
    row = AuditLog.objects.get(status="over_budget")
    assert (row.channel, row.api_key_id) == ("api", ApiKey.objects.get().pk)
    assert not Generation.objects.exists()


def test_generate_has_its_own_rate_limit(client, workspace, created, auth, settings, monkeypatch):
    monkeypatch.setattr(runner, "launch", lambda generation: None)
    settings.RATELIMIT_ROUTES = {"api_ai:campaign_generate": "1/h"}
    url = f"/api/ai/campaigns/{created['id']}/generate"

    statuses = [client.post(url, headers=auth).status_code for _ in range(2)]

    assert statuses == [202, 429]
    assert AuditLog.objects.get(status="rate_limited").error_code == "rate_limit_key"


HEADLINES = [
    "- Light that follows you\n",
    "- Read all night, warmly\n",
    "- 暖光整夜陪你读书直到窗外天亮为止",
]


def _answer_by_channel(request):
    """The simulated model: three headlines (the last too long) or an email."""
    prompt = request.content.decode()
    if "ad headlines" in prompt:
        return sse_response(sse_body(HEADLINES))
    return sse_response(sse_body(["Dear reader, ", "pre-order Lumen today."]))


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_generate_is_a_202_with_progress_then_the_checks_per_item(workspace, brief, auth):
    respx.post(CHAT_URL).mock(side_effect=_answer_by_channel)
    client = AsyncClient()
    made = await client.post(
        f"/api/ai/workspaces/{workspace.pk}/campaigns", brief, content_type=JSON, headers=auth
    )
    campaign = made.json()["id"]

    response = await client.post(f"/api/ai/campaigns/{campaign}/generate", headers=auth)

    body = response.json()
    assert response.status_code == 202, body
    assert response["Location"] == body["url"]
    assert body["url"] == f"http://testserver/api/ai/campaigns/{campaign}/progress"
    # Queued, or already under way: the runners start as soon as the rows are stored.
    assert body["deliverables"] == body["queued"] + body["streaming"] + body["done"] == 2
    for item in body["items"]:
        if task := runner.task_for(item["generation_id"]):
            await task
    polled = (await client.get(body["url"], headers=auth)).json()
    assert (polled["done"], polled["queued"], polled["streaming"], polled["finished"]) == (
        2,
        0,
        0,
        True,
    )
    detail = (await client.get(f"/api/ai/campaigns/{campaign}", headers=auth)).json()
    headlines, email = detail["deliverables"]
    assert headlines["text"] == "".join(HEADLINES)
    assert (headlines["status"], headlines["version"]) == ("done", 1)
    check = headlines["check"]
    assert (check["ok"], check["counter"], check["problems"]) == (False, "double_width", 1)
    fits, _, too_long = check["items"]
    assert (fits["text"], fits["length"], fits["limit"], fits["ok"]) == (
        "Light that follows you",
        22,
        30,
        True,
    )
    # Google Ads counts each Chinese character as two: 16 characters are 32 of its 30.
    assert (too_long["length"], too_long["limit"], too_long["ok"]) == (32, 30, False)
    assert too_long["violations"][0]["params"] == {"length": 32, "limit": 30}
    assert email["check"]["ok"] is True
    assert email["check"]["items"][0]["length"] == len(email["text"]) == 35
    one = (await client.get(f"/api/ai/deliverables/{headlines['id']}", headers=auth)).json()
    assert one == headlines
    generations = [g async for g in Generation.objects.order_by("pk")]
    key = await ApiKey.objects.aget()
    assert [(g.channel, g.api_key_id) for g in generations] == [("api", key.pk)] * 2
    assert await Draft.objects.filter(workspace=workspace).acount() == 2


def test_a_violation_comes_with_its_figures_and_its_words(client, workspace, created, auth, user):
    """A draft whose headline is over the limit and one item short of the count asked."""
    from drafts.actions import add_version
    from studio.audit.origin import Origin
    from studio.campaigns.actions import generate_campaign

    campaign = Campaign.objects.get(pk=created["id"])
    generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
    Generation.objects.update(status="done")
    headlines = Deliverable.objects.get(pk=created["deliverables"][0]["id"])
    add_version(
        draft_id=headlines.draft_id,
        text="- A warm lamp for every late night reader",
        source="edited",
        author_id=user.pk,
    )

    body = client.get(f"/api/ai/deliverables/{headlines.pk}", headers=auth).json()

    check = body["check"]
    assert check["violations"] == [
        {
            "code": "item_count",
            "params": {"found": 1, "expected": 3},
            "message": "1 items; 3 asked for.",
        }
    ]
    (item,) = check["items"]
    assert item["violations"] == [
        {
            "code": "too_long",
            "params": {"length": 39, "limit": 30},
            "message": "39 of 30: 9 too long.",
        }
    ]
    chinese = client.get(
        f"/api/ai/deliverables/{headlines.pk}", headers=auth | {"Accept-Language": "zh-hans"}
    ).json()
    assert (
        chinese["check"]["items"][0]["violations"][0]["message"] != item["violations"][0]["message"]
    )


def test_the_openapi_schema_describes_the_campaigns_api(client):
    paths = client.get("/api/ai/openapi.json").json()["paths"]

    assert {
        "/api/ai/workspaces/{workspace_id}/campaigns",
        "/api/ai/campaigns/{campaign_id}",
        "/api/ai/campaigns/{campaign_id}/progress",
        "/api/ai/campaigns/{campaign_id}/generate",
        "/api/ai/deliverables/{deliverable_id}",
    } <= set(paths)
    assert "202" in paths["/api/ai/campaigns/{campaign_id}/generate"]["post"]["responses"]
