"""The campaign's ZIP: each deliverable as Markdown and DOCX, the Google Ads Editor and social
CSVs, the one-page brief; hostile model output stays inert; Chinese survives; every member
downloads it, non-members get a 404."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from docx import Document

from drafts import generation as runner
from drafts.actions import add_version
from drafts.models import Generation
from studio.audit.origin import Origin
from studio.campaigns.actions import add_deliverable, generate_campaign
from studio.campaigns.exports import HEADLINES, cell, export_campaign
from studio.workspaces.actions import add_member

HOSTILE = (
    "Hello <script>alert(1)</script> and <img src=x onerror=alert(2)> "
    "[click](javascript:alert(3)) <iframe src=//evil.example></iframe>"
)
EMAIL = f"**Subject:** Warm light\n\n{HOSTILE}\n\n**Pre-order now →**"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture(autouse=True)
def no_launch(monkeypatch):
    monkeypatch.setattr(runner, "launch", lambda generation_id: None)


@pytest.fixture
def posts(campaign, templates):
    return add_deliverable(
        campaign=campaign, template=templates["ad-headlines"], channel="x_post", count=3,
        overrides={"max_chars": 120},  # the template takes up to 120
    )  # fmt: skip


def write(campaign, user, texts: dict[str, str]) -> None:
    """Generate all (not run), then each deliverable's draft gets ``texts[channel]``."""
    generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
    Generation.objects.update(status="done")
    for deliverable in campaign.deliverables.all():
        if deliverable.channel in texts:
            add_version(
                draft_id=deliverable.draft_id, text=texts[deliverable.channel], source="edited",
                author_id=user.pk,
            )  # fmt: skip


def members(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rows_of(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: Excel reads Chinese
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


HEADLINE_TEXT = "\n".join(f"{n}. Warm light, all night {n}" for n in range(1, 11))


def test_the_zip_holds_each_deliverable_the_csvs_and_the_brief(
    campaign, headlines, email, posts, user
):
    write(
        campaign, user,
        {"google_ads_headline": HEADLINE_TEXT, "email": EMAIL, "x_post": "- One\n- Two\n- Three"},
    )  # fmt: skip
    export = export_campaign(campaign)
    files = members(export.content)
    assert export.filename == "lumen-lamp-launch.zip"
    assert sorted(files) == [
        "brief.html",
        "deliverables/01-google-ads-headline.docx",
        "deliverables/01-google-ads-headline.md",
        "deliverables/02-email.docx",
        "deliverables/02-email.md",
        "deliverables/03-x-post.docx",
        "deliverables/03-x-post.md",
        "google-ads-responsive-search-ad.csv",
        "social-posts.csv",
    ]
    assert "Warm light, all night 10" in files["deliverables/01-google-ads-headline.md"].decode()
    docx = Document(io.BytesIO(files["deliverables/02-email.docx"]))
    assert any("Pre-order now" in p.text for p in docx.paragraphs)

    header, row = rows_of(files["google-ads-responsive-search-ad.csv"])
    assert header == [
        "Campaign", "Ad group", *[f"Headline {n}" for n in range(1, 16)],
        *[f"Description {n}" for n in range(1, 5)], "Final URL",
    ]  # fmt: skip
    assert row[:3] == ["Lumen lamp launch", "Lumen lamp", "Warm light, all night 1"]
    assert row[2:12] == [f"Warm light, all night {n}" for n in range(1, 11)]
    assert row[12 : 2 + HEADLINES] == [""] * 5 and len(row) == len(header)

    social = rows_of(files["social-posts.csv"])
    assert social == [
        ["Network", "Post", "Text", "Length", "Limit"],
        ["X post", "1", "One", "3", "280"],
        ["X post", "2", "Two", "3", "280"],
        ["X post", "3", "Three", "5", "280"],
    ]


def test_a_deliverable_not_generated_yet_is_listed_without_files(campaign, headlines, email):
    files = members(export_campaign(campaign).content)
    assert sorted(files) == ["brief.html"]  # no copy: no CSV either
    brief = files["brief.html"].decode()
    assert brief.count("Not generated yet.") == 2 and "Google Ads headline" in brief


def test_more_headlines_than_an_ad_holds_are_cut_to_its_columns(campaign, user, templates):
    for _ in range(2):
        add_deliverable(
            campaign=campaign, template=templates["ad-headlines"], channel="google_ads_headline",
            count=10, overrides={},
        )  # fmt: skip
    write(campaign, user, {"google_ads_headline": HEADLINE_TEXT})
    files = members(export_campaign(campaign).content)
    header, row = rows_of(files["google-ads-responsive-search-ad.csv"])
    assert len(header) == len(row) == 2 + 15 + 4 + 1
    assert row[16] == "Warm light, all night 5"  # headline 15: the second list's fifth


def test_hostile_copy_stays_inert_in_the_brief_and_the_csvs(campaign, headlines, email, user):
    campaign.title = "<script>alert('title')</script>"
    campaign.notes = "<b onmouseover=alert(4)>notes</b>"
    campaign.save()
    headline = '=HYPERLINK("http://evil.example","x") <script>alert(5)</script>'
    write(campaign, user, {"google_ads_headline": f"1. {headline}\n2. +1-2", "email": EMAIL})
    files = members(export_campaign(campaign).content)
    brief = files["brief.html"].decode()
    lowered = brief.lower()
    assert "<script" not in lowered and "<iframe" not in lowered and "<img" not in lowered
    assert "onerror=" not in lowered.replace("onerror=alert(2)&gt;", "")  # only as text
    assert "<b onmouseover" not in lowered and "javascript:" not in lowered.replace(
        "(javascript:alert(3))", ""
    )
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in brief
    assert "default-src &#x27;none&#x27;" in brief or "default-src 'none'" in brief
    _, row = rows_of(files["google-ads-responsive-search-ad.csv"])
    assert row[2].startswith("'=HYPERLINK") and row[3] == "'+1-2"


@pytest.mark.parametrize(
    ("text", "kept"), [("=1+1", "'=1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("Buy now", "Buy now")]
)
def test_a_cell_never_starts_a_formula(text, kept):
    assert cell(text) == kept


def test_chinese_names_and_copy_survive(client, campaign, headlines, user):
    campaign.title, campaign.product = "Lumen 台灯上市", "Lumen 台灯"
    campaign.save()
    write(campaign, user, {"google_ads_headline": "1. 暖光护眼\n2. 一夜长明"})
    client.force_login(user)
    response = client.get(f"/campaigns/{campaign.pk}/export/", **ZH)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment") and "utf-8''lumen-%E5%8F%B0" in disposition
    files = members(response.content)
    assert "deliverables/01-google-ads-标题.md" in files  # the channel in the reader's language
    assert "暖光护眼" in files["deliverables/01-google-ads-标题.md"].decode()
    _, row = rows_of(files["google-ads-responsive-search-ad.csv"])
    assert row[:4] == ["Lumen 台灯上市", "Lumen 台灯", "暖光护眼", "一夜长明"]
    brief = files["brief.html"].decode()
    assert '<html lang="zh-hans">' in brief and "文案" in brief and "一夜长明" in brief


def test_every_member_downloads_and_a_non_member_gets_404(
    client, campaign, headlines, workspace, other_user, user
):
    add_member(workspace=workspace, user=other_user, role="reviewer")
    client.force_login(other_user)
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f'href="/campaigns/{campaign.pk}/export/"' in page and "Download (ZIP)" in page
    response = client.get(f"/campaigns/{campaign.pk}/export/")
    assert response.status_code == 200 and members(response.content)
    assert client.post(f"/campaigns/{campaign.pk}/export/").status_code == 405

    from studio.workspaces.models import Membership

    Membership.objects.filter(user=other_user).delete()
    assert client.get(f"/campaigns/{campaign.pk}/export/").status_code == 404
    client.logout()
    assert client.get(f"/campaigns/{campaign.pk}/export/").status_code == 302
