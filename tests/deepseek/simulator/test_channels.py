"""Campaign deliverables' requests answered in the channel's shape: the asked count, each item
within the limit however the channel counts (checked here with the campaigns' own rules), with
the call to action and the link the request gives, in the request's language."""

from __future__ import annotations

import json

import pytest

from prompts.models import TemplateVersion
from studio.campaigns.channels import BUILT_IN, check
from studio.campaigns.demo import DEMO_FILE
from studio.deepseek.simulator.pen import URL_WIDTH, width

from .conftest import chinese_share, is_english_prose
from .demo import inputs
from .demo import messages as demo_messages

CAMPAIGN_TEMPLATES = {t["slug"]: t for t in json.loads(DEMO_FILE.read_text("utf-8"))["templates"]}


def test_width_counts_wide_characters_twice_and_a_link_at_least_as_x_does():
    assert width("Warm light") == 10
    assert width("暖光护眼") == 8 and width("Ｌ") == 2  # full-width forms too
    assert width("x.ly https://a.io") == 5 + URL_WIDTH
    long_link = "https://lumen.example/launch/with/a/very/long/path"
    assert width(long_link) == len(long_link)


def _messages(slug: str, values: dict) -> list[dict[str, str]]:
    template = CAMPAIGN_TEMPLATES[slug]
    version = TemplateVersion(
        system_prompt=template["system_prompt"],
        user_prompt=template["user_prompt"],
        variables=template["variables"],
    )
    return version.build_messages(values)


EN = {
    "product_name": "Lumen lamp", "benefit": "Warm light that lasts all night",
    "offer": "20% off in launch week", "audience": "night readers", "tone": "friendly",
    "cta": "Pre-order now", "link": "", "language": "English",
}  # fmt: skip
ZH = {
    "product_name": "Lumen 台灯", "benefit": "暖光护眼，一夜长明", "offer": "首发周八折",
    "audience": "夜读的人", "tone": "亲切", "cta": "立即预订", "link": "", "language": "简体中文",
}  # fmt: skip


@pytest.mark.parametrize(
    ("channel", "count", "max_chars", "link"),
    [
        ("x_post", 5, 280, ""),
        ("google_ads_description", 4, 90, ""),
        ("sms", 1, 70, "https://lumen.example/launch"),
        ("landing_hero", 1, 160, ""),
        ("meta_headline", 3, 40, ""),
        ("email_subject", 5, 60, ""),
    ],
)
@pytest.mark.parametrize("language", ["en", "zh"])
def test_channel_copy_passes_the_channels_check(ask, channel, count, max_chars, link, language):
    rules = BUILT_IN[channel]
    slug, values = ("channel-copy", EN) if language == "en" else ("channel-copy-zh", ZH)
    values = values | {
        "channel": rules.name, "count": count, "max_chars": max_chars, "link": link,
    }  # fmt: skip
    answer = ask(_messages(slug, values), temperature=1.3)
    report = check(rules, answer, count=count if rules.is_list else None)
    assert report.ok, (answer, report)
    assert len(answer.splitlines()) == count  # one per line, no numbering
    assert all(values["cta"] in line for line in answer.splitlines())
    if link:
        assert all(line.endswith(link) for line in answer.splitlines())
    prose = answer.replace(link, "") if link else answer
    if language == "zh":
        assert chinese_share(prose) > 0.5, answer
    else:
        assert is_english_prose(prose), answer


@pytest.mark.parametrize(("slug", "limit"), [("ad-headlines", 30), ("ad-headlines-zh", 30)])
def test_ad_headlines_fit_google_ads_counting_chinese_as_two(ask, slug, limit):
    """ "不超过 30 个字" in a Google Ads headline: Chinese counts 2, so at most 15 characters."""
    values = inputs(slug, count=10, max_chars=limit)
    answer = ask(demo_messages(slug, values), temperature=1.5)
    report = check(BUILT_IN["google_ads_headline"], answer, count=10)
    assert report.ok, (answer, report)
