"""validate_prompt: length caps and blocked patterns, with messages naming what was found."""

import pytest
from django.core.exceptions import ValidationError

from studio.api.validation import validate_prompt


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
