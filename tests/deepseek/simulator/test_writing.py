"""The simulator answers every demo template in the shape its prompts ask for: the rendered
prompts (``TemplateVersion.build_messages``, as the generate action builds them) go to the
simulator, and the answer is checked for count, character limit, length and language."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from prompts.experiments.judging import judge_messages, parse_verdict
from studio.deepseek import DeepSeekClient
from studio.deepseek.events import ContentDelta, ReasoningDelta
from studio.deepseek.simulator import create_app

from .citations import LUMEN, LUMEN_ZH, block, check_citations, cited_numbers
from .conftest import chat, chinese_share, is_chinese_prose, is_english_prose
from .demo import TEMPLATES, check_answer, hanzi, inputs, messages, numbered_items, words


def generate(ask, slug: str, temperature: float | None = None, **overrides) -> str:
    values = inputs(slug, **overrides)
    temperature = TEMPLATES[slug]["temperature"] if temperature is None else temperature
    return ask(messages(slug, values), temperature=temperature)


@pytest.mark.parametrize("slug", TEMPLATES)
def test_every_demo_template_is_answered_in_its_shape_and_language(ask, slug):
    check_answer(slug, inputs(slug), generate(ask, slug))


@pytest.mark.parametrize(
    ("slug", "count", "max_chars"),
    [("ad-headlines", 12, 25), ("ad-headlines", 3, 15), ("ad-headlines-zh", 5, 8)],
)
def test_headlines_keep_any_count_and_character_limit(ask, slug, count, max_chars):
    headlines = numbered_items(generate(ask, slug, count=count, max_chars=max_chars))
    assert len(headlines) == count
    assert all(0 < len(h) <= max_chars for h in headlines), headlines


@pytest.mark.parametrize(
    ("slug", "words_asked"), [("product-description", 400), ("product-description-zh", 600)]
)
def test_a_product_description_is_about_as_long_as_asked(ask, slug, words_asked):
    answer = generate(ask, slug, words=words_asked)
    size = hanzi(answer) if slug.endswith("-zh") else words(answer)
    assert 0.8 * words_asked <= size <= 1.3 * words_asked


def test_the_language_variable_decides_the_language(ask):
    chinese = generate(ask, "product-description", language="简体中文")
    english = generate(ask, "product-description-zh", language="English")
    # The product's name stays as it was written; everything else changes language.
    assert chinese_share(chinese) > 0.6 and chinese.count("。") >= 3, chinese
    assert is_english_prose(english.replace("极光台灯", "")), english


@pytest.mark.parametrize("slug", TEMPLATES)
def test_two_temperatures_give_two_texts_and_one_temperature_one_text(ask, slug):
    low, high = generate(ask, slug, temperature=0.7), generate(ask, slug, temperature=1.3)
    assert low != high  # the two sides of an A/B pair differ
    assert generate(ask, slug, temperature=0.7) == low  # deterministic, even in a new app
    assert generate(ask, slug, temperature=1) == generate(ask, slug, temperature=1.0)
    assert ask(messages(slug, inputs(slug)), temperature=0.7, seed=8) != low  # and per seed


def test_a_general_prompt_still_gets_an_article():
    """Not a template: a heading, paragraphs and a list, in the prompt's language."""
    result = asyncio.run(chat([{"role": "user", "content": "Write about sourdough baking"}]))
    assert result.content.startswith("## ") and "\n- **" in result.content


def test_the_judge_gets_json_with_scores_that_vary(ask):
    """As the batch runner asks (the reasoning route, JSON mode): every reply parses, and the
    scores differ between outputs."""
    outputs = [generate(ask, slug) for slug in TEMPLATES] + ["Lamp.", "Buy it"]
    rubric = "Names the product, states one concrete benefit, stays under 200 words."
    scores = []
    for output in outputs:
        judged = judge_messages(rubric=rubric, inputs={"product_name": "Aurora"}, output=output)
        reply = ask(judged, model="deepseek-v4-pro", thinking=True, response_format="json_object")
        verdict = parse_verdict(reply)
        assert verdict.parsed and 1 <= verdict.score <= 10 and verdict.reason, reply
        assert json.loads(reply) == {"score": verdict.score, "reason": verdict.reason}
        scores.append(verdict.score)
    assert len(set(scores)) >= 3, scores
    assert max(scores) > min(scores) + 2  # the short, bare outputs score lower


@pytest.mark.parametrize(
    ("question", "english"), [("Is the tone right?", True), ("语气合适吗？", False)]
)
def test_the_assistant_answers_in_the_language_of_the_question(ask, question, english):
    system = "You are the writing assistant.\n\n--- DRAFT ---\n## Lamps\n\nLamps help.\n--- END ---"
    answer = ask([{"role": "system", "content": system}, {"role": "user", "content": question}])
    assert (is_english_prose if english else is_chinese_prose)(answer)
    assert not answer.startswith("#")  # an answer, not an article


def test_continue_goes_on_without_a_new_heading(ask):
    earlier = generate(ask, "doc-section-zh")
    messages_ = [
        *messages("doc-section-zh", inputs("doc-section-zh")),
        {"role": "assistant", "content": earlier},
        {"role": "user", "content": "Continue exactly where the text above stops. Do not repeat."},
    ]
    more = ask(messages_, temperature=0.7)
    assert is_chinese_prose(more) and not more.startswith("#") and more not in earlier


def grounded(slug: str, passages: list[tuple[str, str]], **overrides) -> list[dict[str, str]]:
    """The template's messages with the sources block where the studio puts it: in the
    ``{{ knowledge }}`` placeholder of the grounded demo templates (product description, doc
    section), at the end of the user message for the others (the marketing emails)."""
    sources = block(passages, chinese=slug.endswith("-zh"))
    return messages(slug, inputs(slug, **overrides), knowledge=sources)


@pytest.mark.parametrize(
    "slug",
    [
        "product-description",
        "product-description-zh",
        "doc-section",
        "doc-section-zh",
        "marketing-email",
        "marketing-email-zh",
    ],
)
def test_a_grounded_template_quotes_and_cites_its_sources_in_its_shape(ask, slug):
    passages = LUMEN_ZH if slug.endswith("-zh") else LUMEN
    answer = ask(grounded(slug, passages), temperature=0.7)
    check_answer(slug, inputs(slug), answer)  # the shape and language asked for
    cited = check_citations(answer, passages)
    assert cited == {1, 2} if slug.startswith("marketing-email") else cited == {1, 2, 3}
    assert "[7]" not in answer  # a marker inside a passage is not a citation


@pytest.mark.parametrize(
    ("slug", "passages"), [("doc-section", LUMEN), ("doc-section-zh", LUMEN_ZH)]
)
def test_a_documentation_example_is_the_commands_a_source_shows(ask, slug, passages):
    answer = ask(grounded(slug, passages), temperature=0.7)
    assert "```bash\nlumen dim 40 --fade 2s\n```" in answer
    assert "enabled: true" not in answer  # not the invented configuration


def test_a_general_request_gets_an_article_of_the_facts(ask):
    answer = ask([{"role": "user", "content": f"Write about the Lumen lamp.\n\n{block(LUMEN)}"}])
    assert answer.startswith("## ") and "\n- " in answer
    assert check_citations(answer, LUMEN) == {1, 2, 3}
    # The facts are all there, each once.
    assert answer.count("Lumen dims steplessly") == 1 and "three hours [2]." in answer


def test_short_facts_become_items_within_the_limit(ask):
    passages = [("Tips (v1)", "Charge it overnight. Dim it at night. Fold it flat to travel.")]
    prompt = f"Write 5 tips for Lumen owners, at most 30 characters each.\n\n{block(passages)}"
    tips = numbered_items(ask([{"role": "user", "content": prompt}]))
    assert len(tips) == 5 and all(len(t) <= 30 for t in tips)
    assert tips[:3] == [
        "Charge it overnight [1].",
        "Dim it at night [1].",
        "Fold it flat to travel [1].",
    ]


def test_sources_in_another_language_are_not_quoted_and_nothing_is_cited(ask):
    answer = ask(grounded("product-description", LUMEN_ZH))
    check_answer("product-description", inputs("product-description"), answer)
    assert cited_numbers(answer) == set()


def test_no_number_that_was_not_given_is_written(ask):
    """The user's own "[4]" in a grounded request is not passed off as a citation."""
    answer = ask(grounded("doc-section", LUMEN[:2], section_title="Pairing [4]"))
    assert check_citations(answer, LUMEN[:2]) == {1, 2}
    assert answer.startswith("## Pairing (4)\n\n")


def test_without_sources_nothing_is_cited(ask):
    for slug in TEMPLATES:
        assert cited_numbers(generate(ask, slug)) == set(), slug


async def test_a_grounded_request_streams_in_the_same_wire_format():
    """Streamed, with thinking: reasoning, then the cited answer's deltas, usage, the finish."""
    prompt = f"Write about the Lumen lamp.\n\n{block(LUMEN)}"
    app = create_app(tokens_per_second=0, first_token_delay=0, seed=7)
    transport = httpx.ASGITransport(app=app)
    async with DeepSeekClient(base_url="http://sim", api_key="sk-sim", transport=transport) as c:
        stream = c.stream_chat(
            messages=[{"role": "user", "content": prompt}], model="deepseek-flash", thinking=True
        )
        events = [event async for event in stream]
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "ReasoningDelta" and kinds[-2:] == ["Usage", "Finish"]
    answer = "".join(e.text for e in events if isinstance(e, ContentDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert "[1]" not in reasoning and events[-1].reason == "stop"
    assert check_citations(answer, LUMEN) == {1, 2, 3}
    assert answer == (await chat([{"role": "user", "content": prompt}], thinking=True)).content


@pytest.mark.parametrize(
    ("slug", "tags"),
    [
        ("product-description", ["lumen"]),
        ("product-description-zh", ["lumen-zh"]),
        ("doc-section", ["cli"]),
        ("doc-section-zh", ["cli-zh"]),
    ],
)
def test_the_product_and_doc_templates_are_grounded_in_the_demo_knowledge(slug, tags):
    (variable,) = [v for v in TEMPLATES[slug]["variables"] if v["type"] == "knowledge"]
    assert (variable["name"], variable["tags"], variable["passages"]) == ("knowledge", tags, 5)
    assert "{{ knowledge }}" in TEMPLATES[slug]["user_prompt"]
