"""The demo templates, filled in as a user would, and what their answers must look like."""

from __future__ import annotations

import json
import re

from prompts.management.commands.load_demo_templates import DEMO_FILE
from prompts.models import TemplateVersion

from .conftest import chinese_share, is_english_prose

TEMPLATES = {t["slug"]: t for t in json.loads(DEMO_FILE.read_text("utf-8"))}
SAMPLES = {
    "en": {
        "product_name": "Aurora desk lamp",
        "features": "Warm light\nUSB-C charging\nFolds flat",
        "benefit": "Brighter desks in seconds",
        "goal": "Win back lapsed customers",
        "offer": "20% off all lamps this week",
        "section_title": "Installing the lamp",
        "notes": "Screw the base on. Plug in the USB-C cable.\nHold the button to pair the app.",
    },
    "zh": {
        "product_name": "极光台灯",
        "features": "暖光\nUSB-C 充电\n可折叠",
        "benefit": "一秒点亮书桌",
        "goal": "唤回老客户",
        "offer": "本周全场台灯八折",
        "section_title": "安装台灯",
        "notes": "拧紧底座。插上 USB-C 线。\n长按按钮，配对手机应用。",
    },
}


def inputs(slug: str, **overrides) -> dict:
    template = TEMPLATES[slug]
    values = {v["name"]: v.get("default", "") for v in template["variables"]}
    values |= SAMPLES["zh" if slug.endswith("-zh") else "en"]
    return values | overrides


def messages(slug: str, values: dict, knowledge: str = "") -> list[dict[str, str]]:
    """The template's messages, as the generate action builds them; ``knowledge``: a sources
    block, in the template's ``{{ knowledge }}`` placeholder or else after the user message."""
    template = TEMPLATES[slug]
    version = TemplateVersion(
        system_prompt=template["system_prompt"],
        user_prompt=template["user_prompt"],
        variables=template["variables"],
    )
    return version.build_messages(values, knowledge=knowledge)


def numbered_items(answer: str) -> list[str]:
    lines = answer.strip().splitlines()
    assert all(re.match(r"\d+\. \S", line) for line in lines), answer
    assert [int(line.split(".")[0]) for line in lines] == list(range(1, len(lines) + 1))
    return [line.split(". ", 1)[1] for line in lines]


def words(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9][A-Za-z0-9'’-]*", text))


def hanzi(text: str) -> int:
    return len(re.findall(r"[\u4e00-\u9fff]", text))


def check_language(slug: str, answer: str, zh_share: float = 0.8) -> None:
    if slug.endswith("-zh"):
        assert chinese_share(answer) > zh_share, answer
    else:
        assert is_english_prose(answer), answer


def check_answer(slug: str, values: dict, answer: str, zh_share: float = 0.8) -> None:
    """The answer is in the template's language and has the shape its prompts ask for.

    ``zh_share``: the least share of Chinese characters among a Chinese answer's letters (a
    CLI's command names, quoted from its reference, stay in Latin letters)."""
    check_language(slug, answer, zh_share)
    kind = slug.removesuffix("-zh")
    if kind == "ad-headlines":
        headlines = numbered_items(answer)
        assert len(headlines) == values["count"]
        assert all(len(h) <= values["max_chars"] for h in headlines), headlines
        assert len(set(headlines)) == len(headlines)
    elif kind == "product-description":
        headline, *rest = answer.split("\n\n")
        assert headline.startswith("## ") and "\n" not in headline  # a one-line headline
        bullets = [line for line in answer.splitlines() if line.startswith("- ")]
        assert len(bullets) == len(values["features"].splitlines())  # one per feature
        size = hanzi(answer) if slug.endswith("-zh") else words(answer)
        assert 0.8 * values["words"] <= size <= 1.6 * values["words"], size
    elif kind == "marketing-email":
        subject, preview = answer.splitlines()[:2]
        assert re.match(r"\*\*(Subject:|主题：)\*\* \S", subject), answer
        assert re.match(r"\*\*(Preview:|预览：)\*\* \S", preview), answer
        assert answer.count(values["cta"]) == 1  # one call to action
    else:  # a documentation section: its heading, steps and a code block
        assert answer.startswith(f"## {values['section_title']}\n\n")
        assert re.search(r"^1\. \S", answer, re.M)
        assert re.search(r"^```\w*\n.+?\n```$", answer, re.M | re.S)
