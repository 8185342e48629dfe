"""Reading what a request asks for, from its messages and parameters only, in English and
Chinese phrasing."""

from __future__ import annotations

import pytest

from studio.deepseek.simulator import brief
from studio.deepseek.simulator.brief import read_brief

from .citations import LUMEN_ZH, block


def read(user: str, system: str = "", **params) -> brief.Brief:
    messages = [{"role": "system", "content": system}] if system else []
    return read_brief([*messages, {"role": "user", "content": user}], params)


@pytest.mark.parametrize(
    ("text", "count", "limit"),
    [
        ("Write 8 ad headlines for Aurora. Each headline is at most 40 characters.", 8, 40),
        ("Give me five taglines, no more than 30 chars each.", 5, 30),
        ("List 12 subject lines (25 characters or fewer).", 12, 25),
        ("Suggest 3 slogans under 20 characters", 3, 20),
        ("为 极光台灯 写 8 条广告标题。每条标题不超过 20 个字。", 8, 20),
        ("写5条广告语，每条15字以内", 5, 15),
        ("Write 10 headline ideas", 10, None),
    ],
)
def test_counts_and_character_limits(text, count, limit):
    read_brief_ = read(text)
    assert (read_brief_.kind, read_brief_.count, read_brief_.max_chars) == (
        brief.ITEMS, count, limit,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("system", "user", "chinese"),
    [
        ("Write in English.", "为极光台灯写一段产品描述。", False),
        ("Write in 简体中文.", "Write a product description for Aurora.", True),
        ("用简体中文写作。", "Write about lamps", True),
        ("用English写作。", "为极光台灯写一段产品描述。", False),
        ("", "请写一篇关于人工智能的文章", True),
        ("", "Write about sourdough", False),
        ("Answer in Simplified Chinese", "Tell me about lamps", True),
    ],
)
def test_the_language_asked_for_wins_over_the_prompts_own(system, user, chinese):
    assert read(user, system).chinese is chinese


def test_words_fields_and_features_of_a_product_description():
    read_brief_ = read(
        "Write a product description for Aurora desk lamp.\n\nKey features:\nWarm light\n"
        "- USB-C charging\n\nAudience: designers\nTone: bold\nLength: about 120 words."
    )
    assert read_brief_.kind == brief.PRODUCT and read_brief_.words == 120
    assert read_brief_.subject == "Aurora desk lamp"
    assert read_brief_.features == ["Warm light", "USB-C charging"]
    assert read_brief_.fields == {"audience": "designers", "tone": "bold"}


def test_numbers_in_the_users_values_ask_for_no_list():
    email = read(
        "Write a marketing email.\n\nOffer: 3 items for the price of 2\nAudience: all\n\n"
        "Give a subject line, a preview text, then the body."
    )
    assert (email.kind, email.count) == (brief.EMAIL, None)


def test_chinese_length_is_in_characters():
    assert read("为 极光台灯 写一段产品描述。篇幅：约 300 字。").words == 300


@pytest.mark.parametrize(
    ("task", "expected", "chinese"),
    [
        ("Make the text below shorter: keep its meaning.", "shorter", False),
        ("Rewrite the text below in a more formal register.", "formal", False),
        ("Expand the section below with more detail.", "expand", False),
        ("Translate the text below into Simplified Chinese.", "translate", True),
        ("Translate the text below into French.", "translate", True),  # not the source's
        ("Write 5 alternative headlines for the text below.", "headlines", False),
        (
            "Rewrite the section below from scratch.\n\nThe editor's instruction for this "
            "section: make it shorter and more formal",
            "regenerate",
            False,
        ),
    ],
)
def test_rewrite_tasks(task, expected, chinese):
    user = f"<document>\nx\n</document>\n\n{task}\n\n<target>\nThe lamp is warm.\n</target>"
    read_brief_ = read(user)
    assert (read_brief_.kind, read_brief_.task, read_brief_.chinese) == (
        brief.REWRITE, expected, chinese,
    )  # fmt: skip


def test_the_judge_and_other_json_requests():
    judge = read(
        "RUBRIC:\nNames the product.\n\nINPUTS:\n- a: b\n\nOUTPUT:\nAurora is great.",
        "Score the OUTPUT against the RUBRIC. Reply with JSON.",
        response_format={"type": "json_object"},
    )
    assert (judge.kind, judge.output, judge.rubric) == (
        brief.VERDICT, "Aurora is great.", "Names the product.",
    )  # fmt: skip
    assert read("Give me json", response_format={"type": "json_object"}).kind == brief.JSON


def test_continue_and_the_assistant():
    messages = [
        {"role": "user", "content": "Write about lamps"},
        {"role": "assistant", "content": "Lamps are useful."},
        {"role": "user", "content": "Continue exactly where the text above stops."},
    ]
    assert read_brief(messages, {}).kind == brief.CONTINUE
    assistant = read("Is the tone right?", "You are the writing assistant.\n--- DRAFT ---\nHi")
    assert assistant.kind == brief.CHAT


def test_a_sources_block_gives_passages_and_asks_for_nothing_itself():
    """The passages' own words (a count, a limit, Chinese) do not change what is asked for;
    the fields after the block are still read."""
    passages = [
        ("Ads (v1)", "写 8 条广告标题，每条不超过 10 个字。"),
        ("Sheet (v2)", "Lumen dims."),
    ]
    read_brief_ = read(
        "Write a product description for Aurora desk lamp.\n\nKey features:\nWarm light\n\n"
        f"{block(passages, chinese=True)}\n\nAudience: designers\nLength: about 120 words."
    )
    assert (read_brief_.kind, read_brief_.chinese, read_brief_.count) == (
        brief.PRODUCT,
        False,
        None,
    )
    assert (read_brief_.max_chars, read_brief_.words) == (None, 120)
    assert read_brief_.fields == {"audience": "designers"}
    assert "<sources>" not in read_brief_.prompt and "广告" not in read_brief_.notes
    assert [(p.number, p.title, p.text) for p in read_brief_.sources] == [
        (1, "Ads", passages[0][1]),
        (2, "Sheet", "Lumen dims."),
    ]


def test_a_block_in_the_system_prompt_counts_too_and_none_means_no_sources():
    read_brief_ = read(
        "写一篇关于 Lumen 的文章", f"你是写作助手。\n{block(LUMEN_ZH, chinese=True)}"
    )
    assert read_brief_.chinese and [p.number for p in read_brief_.sources] == [1, 2, 3]
    assert "资料" not in read_brief_.prompt
    assert read("Write about lamps [1]").sources == ()
