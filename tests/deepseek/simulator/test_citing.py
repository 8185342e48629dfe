"""Reading a request's numbered ``<sources>`` block, and the facts quoted from it."""

from __future__ import annotations

from studio.deepseek.simulator.citing import (
    Fact,
    Passage,
    Quotes,
    commands,
    read_sources,
    sentences,
)

from .citations import LUMEN, LUMEN_ZH, block


def test_the_block_gives_numbered_passages_and_leaves_the_request_around_it():
    text = f"Write about Lumen.\n\n{block(LUMEN)}\n\nReader level: Beginner"
    passages, rest = read_sources(text)
    assert [(p.number, p.title) for p in passages] == [
        (1, "Lumen lamp product sheet"),
        (2, "Lumen lamp product sheet"),
        (3, "Lumen CLI reference"),
    ]
    assert passages[1].text == LUMEN[1][1]
    assert passages[2].text.startswith("lumen dim 40 --fade 2s\n\nThe dim command")
    # The instruction line goes with the block; the rest stays as it was written.
    assert rest == "Write about Lumen.\n\nReader level: Beginner"


def test_the_chinese_instruction_line_goes_too():
    passages, rest = read_sources(f"为 Lumen 写一段产品描述。\n\n{block(LUMEN_ZH, chinese=True)}")
    assert len(passages) == 3 and passages[0].title == "Lumen 台灯产品说明"
    assert rest == "为 Lumen 写一段产品描述。"


def test_without_a_block_the_text_is_untouched():
    text = "Write about [1] lamps.\n\n\n\nThree blank lines stay.  "
    assert read_sources(text) == ([], text)


def test_a_numbered_line_out_of_order_is_passage_text_not_a_new_entry():
    passages, _ = read_sources(
        "<sources>\n[1] Notes (v1)\nFirst line.\n[5] Not an entry.\n\n[2] More (v3)\nSecond.\n"
        "</sources>"
    )
    assert [(p.number, p.text) for p in passages] == [
        (1, "First line.\n[5] Not an entry."),
        (2, "Second."),
    ]


def test_sentences_are_the_answers_language_whole_and_without_markers_of_their_own():
    passage = Passage(
        1,
        "Mixed",
        "## Battery\n- The battery lasts 40 hours [3].\n电池可使用 40 小时。USB-C 充电。\n"
        "Option Meaning\nlumen off\nShort one.\nIt ships in black, white and sand!",
    )
    assert sentences(passage, chinese=False) == [
        "The battery lasts 40 hours.",
        "It ships in black, white and sand!",
    ]
    assert sentences(passage, chinese=True) == ["电池可使用 40 小时。"]


def test_commands_are_lines_standing_alone_or_fenced():
    passage = Passage(
        1,
        "CLI",
        "Run this:\n\nlumen dim 40 --fade 2s\n\nThe dim command sets brightness.\n\n"
        "```bash\nlumen pair\nlumen status --json\n```",
    )
    assert commands(passage) == ["lumen pair", "lumen status --json", "lumen dim 40 --fade 2s"]
    assert commands(Passage(2, "Sheet", "Lumen is a lamp. 电池可使用 40 小时。")) == []


def test_a_fact_is_cited_before_its_sentence_ends():
    assert Fact("It dims to 1%.", 2).cited() == "It dims to 1% [2]."
    assert Fact("电池可使用 40 小时。", 1).cited() == "电池可使用 40 小时[1]。"
    assert Fact("Ships today", 3).cited() == "Ships today [3]"


def test_quotes_deal_every_passage_before_any_twice_and_each_fact_once():
    passages, _ = read_sources(block(LUMEN))
    quotes = Quotes(passages, chinese=False)
    dealt = quotes.take(10)
    assert [d[-4:] for d in dealt] == ["[1].", "[2].", "[3].", "[1].", "[2]."]
    assert len(dealt) == len(set(dealt)) and not quotes and quotes.next() is None


def test_a_topic_gets_the_fact_that_shares_its_words():
    passages, _ = read_sources(block(LUMEN))
    quotes = Quotes(passages, chinese=False)
    assert quotes.about("USB-C charging") == "A full charge over USB-C takes three hours [2]."
    assert quotes.about("Folds flat") == "Lumen dims steplessly from 1% to 100% [1]."  # the next
    zh = Quotes(read_sources(block(LUMEN_ZH, chinese=True))[0], chinese=True)
    assert zh.about("USB-C 充电") == "通过 USB-C 充满电需要三小时[2]。"
    assert Quotes(passages, chinese=True).about("亮度") is None  # no Chinese sentence given


def test_the_example_comes_from_the_first_passage_that_shows_commands():
    passages, _ = read_sources(block(LUMEN))
    assert Quotes(passages, chinese=False).example() == (["lumen dim 40 --fade 2s"], 3)
    assert Quotes(passages[:2], chinese=False).example() is None
