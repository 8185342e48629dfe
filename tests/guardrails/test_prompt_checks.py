"""validate_prompt and validate_text: length caps and blocked patterns, with messages naming
what was found."""

import pytest
from django.core.exceptions import ValidationError

from studio.guardrails.prompt_checks import validate_prompt, validate_text


def msgs(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


def test_an_ordinary_prompt_passes():
    validate_prompt(msgs("Write a tagline for a desk lamp, under 10 words."))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("my key is sk-abcdefghijklmnopqrstuvwx", "an API secret key (sk-…)"),
        ("AKIAABCDEFGHIJKLMNOP", "an AWS access key"),
        ("-----BEGIN RSA PRIVATE KEY-----", "a private key"),
        ("<SCRIPT src=x>", "a <script> tag"),
        ("< script>", "a <script> tag"),
    ],
)
def test_blocked_patterns_are_named_in_the_error(text, name):
    with pytest.raises(ValidationError) as caught:
        validate_prompt(msgs(text))

    assert caught.value.code == "prompt_blocked"
    assert name in caught.value.messages[0] and "user message" in caught.value.messages[0]


def test_the_secret_itself_is_not_echoed():
    with pytest.raises(ValidationError) as caught:
        validate_prompt(msgs("sk-abcdefghijklmnopqrstuvwx"))

    assert "abcdefghijkl" not in caught.value.messages[0]


def test_talking_about_sk_prefixes_is_fine():
    validate_prompt(msgs("Keys look like sk-... and scripts live in <noscript> tags."))


def test_the_length_cap(settings):
    settings.PROMPT_MAX_CHARS = 50

    with pytest.raises(ValidationError) as caught:
        validate_prompt(msgs("x" * 60))

    assert caught.value.code == "prompt_too_long" and "the limit is 50" in caught.value.messages[0]


def test_patterns_are_configurable(settings):
    settings.PROMPT_BLOCKED_PATTERNS = {"an internal project name": r"\bproject\s+falcon\b"}

    validate_prompt(msgs("<script>"))  # no longer blocked
    with pytest.raises(ValidationError, match="an internal project name"):
        validate_prompt(msgs("Announce Project  Falcon today"))


def test_openai_content_parts_are_checked():
    parts = [{"role": "user", "content": [{"type": "text", "text": "<script>alert(1)</script>"}]}]

    with pytest.raises(ValidationError, match="script"):
        validate_prompt(parts)


def test_one_text_is_checked_against_its_own_cap_and_the_global_one(settings):
    settings.PROMPT_MAX_CHARS = 100_000
    validate_text("x" * 500, max_chars=500)

    with pytest.raises(ValidationError) as caught:
        validate_text("x" * 501, max_chars=500)
    assert caught.value.code == "prompt_too_long"
    assert "501 characters long; the limit is 500" in caught.value.messages[0]

    settings.PROMPT_MAX_CHARS = 100  # the global cap is lower than the field's
    with pytest.raises(ValidationError, match="the limit is 100"):
        validate_text("x" * 101, max_chars=500)


def test_one_text_names_the_blocked_pattern_without_echoing_it():
    with pytest.raises(ValidationError) as caught:
        validate_text("deploy with sk-abcdefghijklmnopqrstuvwx please")

    message = caught.value.messages[0]
    assert caught.value.code == "prompt_blocked" and "an API secret key (sk-…)" in message
    assert "abcdefghijkl" not in message


def test_sources_say_where_in_the_prompt_the_pattern_was_found():
    with pytest.raises(ValidationError) as caught:
        validate_prompt(msgs("<script>"), sources=["the instructions", "the draft"])

    assert "(in the draft)" in caught.value.messages[0]
