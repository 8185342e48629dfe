"""Rewrites through the simulator, asked exactly as a suggestion asks
(``drafts.rewrite_prompts.build_messages``): shorter is shorter, expand is longer, more formal
is formal, translate changes the language and keeps the Markdown's shape."""

from __future__ import annotations

import re

import pytest

from drafts.models import Suggestion
from drafts.rewrite_prompts import build_messages, fit_section, headlines
from drafts.sections import outline

from .conftest import is_chinese_prose, is_english_prose

Kind = Suggestion.Kind
GUIDE = (
    "# Aurora lamp guide\n\nThe lamp in one page. It fits any desk, and it folds flat.\n\n"
    "## Install\n\nScrew the base on tightly. Plug in the USB-C cable. Wait for the light.\n\n"
    "- Keep the box.\n- Check the cable.\n- Don't force the hinge.\n\n"
    "## Configure\n\nHold the button for three seconds. You'll get a blink when it's paired.\n\n"
    "```\naurora pair --app\n```\n\n"
    "## Care\n\nWipe it with a dry cloth.\n"
)
GUIDE_ZH = (
    "# 极光台灯指南\n\n一页看懂这款台灯。它适合任何书桌，而且可以折叠。\n\n"
    "## 安装\n\n把底座拧紧。插上 USB-C 线。等待灯亮起。\n\n"
    "- 保留包装盒。\n- 检查线缆。\n\n"
    "## 保养\n\n你可以用干布擦拭，很简单吧。\n"
)


def section(text: str, title: str) -> str:
    found = next(s for s in outline(text) if s.title == title)
    return text[found.start : found.end]


def rewrite(ask, kind: str, target: str, document: str = GUIDE, instruction: str = "") -> str:
    messages = build_messages(kind=kind, document=document, target=target, instruction=instruction)
    return ask(messages, temperature=1.3)


def shape(text: str) -> list[str]:
    """The Markdown skeleton: heading marks, list marks, fences, blank lines."""
    marks = []
    for line in text.strip().split("\n"):
        found = re.match(r"\s*(#{1,6} |[-*+] |\d+\. |```)", line)
        marks.append(found.group(1) if found else ("" if not line.strip() else "text"))
    return marks


@pytest.mark.parametrize("document", [GUIDE, GUIDE_ZH])
def test_shorter_is_shorter_and_keeps_the_language_and_headings(ask, document):
    answer = rewrite(ask, Kind.SHORTER, document, document)
    assert len(answer) < len(document)
    assert [s.title for s in outline(answer)] == [s.title for s in outline(document)]
    chinese = document is GUIDE_ZH
    assert (is_chinese_prose if chinese else is_english_prose)(answer)


@pytest.mark.parametrize("sentence", ["Wipe it with a dry cloth.", "Hold the button.", "很好。"])
def test_shorter_shortens_a_single_sentence(ask, sentence):
    answer = rewrite(ask, Kind.SHORTER, sentence)
    assert 0 < len(answer) < len(sentence)


@pytest.mark.parametrize(("document", "title"), [(GUIDE, "Install"), (GUIDE_ZH, "安装")])
def test_expand_makes_a_section_longer_under_its_own_heading(ask, document, title):
    target = section(document, title)
    answer = rewrite(ask, Kind.SECTION_EXPAND, target, document)
    assert len(answer) > 1.3 * len(target)
    assert answer.split("\n", 1)[0] == target.split("\n", 1)[0]  # its heading, same level
    chinese = document is GUIDE_ZH
    assert (is_chinese_prose if chinese else is_english_prose)(answer)


def test_a_regenerated_section_is_new_text_under_the_same_heading(ask):
    target = section(GUIDE, "Configure")
    answer = rewrite(ask, Kind.SECTION_REGENERATE, target, instruction="make it shorter")
    assert answer.startswith("## Configure\n\n") and answer != target.strip()
    assert "```\naurora pair --app\n```" in answer  # its code stays
    assert fit_section(answer, target).endswith("\n\n")


def test_more_formal_spells_out_contractions_and_raises_the_register(ask):
    target = section(GUIDE, "Configure")
    answer = rewrite(ask, Kind.FORMAL, target)
    assert "You'll" not in answer and "it's" not in answer and "You will" in answer
    assert "It is recommended that you press and hold the button" in answer
    assert shape(answer) == shape(target)


def test_more_formal_in_chinese_uses_the_polite_forms(ask):
    answer = rewrite(ask, Kind.FORMAL, section(GUIDE_ZH, "保养"), GUIDE_ZH)
    assert "您" in answer and "你" not in answer and not answer.rstrip().endswith("吧。")


@pytest.mark.parametrize(
    ("document", "language", "check"),
    [(GUIDE, "zh-hans", is_chinese_prose), (GUIDE_ZH, "en", is_english_prose)],
)
def test_translate_changes_the_language_and_keeps_the_markdown(ask, document, language, check):
    answer = rewrite(ask, Kind.TRANSLATE, document, document, instruction=language)
    assert check(re.sub(r"Aurora|USB-C", "", answer)), answer
    assert shape(answer) == shape(document)  # the same headings, lists and code, line by line
    assert "aurora pair --app" in answer if "```" in document else True
    assert ("Aurora" in answer) == ("Aurora" in document)  # names travel unchanged


def test_headline_alternatives_are_five_lines_without_marks(ask):
    answer = rewrite(ask, Kind.HEADLINES, GUIDE)
    assert len(headlines(answer)) == 5 == len(answer.splitlines())
    assert not re.search(r"^\s*(\d+\.|[-*])", answer, re.M)
