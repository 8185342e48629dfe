"""The DeepSeek client's advice follows the UI language, though the client words it in
English (and generations store it so)."""

import pytest
from django.utils import translation

from drafts.models import Generation
from studio import client_messages as errors
from studio.deepseek import errors as client_errors


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_fixed_client_message_is_in_the_catalogue_list():
    fixed = {client_errors.DeepSeekError.default_user_message}
    fixed |= {cls.default_user_message for cls in _subclasses(client_errors.DeepSeekError)}
    fixed |= set(client_errors.UpstreamTimeout._advice.values())
    fixed |= {
        client_errors.BadRequest(message).user_message
        for message in ("Content Exists Risk", "Model Not Exist", "maximum context length", "")
    }
    fixed.add(client_errors.error_from_response(404, b"").user_message)

    assert fixed <= errors.KNOWN


def test_a_stored_message_shows_in_chinese_under_the_chinese_ui():
    generation = Generation(error_message=client_errors.StreamTruncated().user_message)

    with translation.override("zh-hans"):
        shown = generation.error_text

    assert shown != generation.error_message
    assert "DeepSeek" in shown and "重试" in shown


def test_a_message_the_client_did_not_word_is_shown_as_it_is():
    message = client_errors.BadRequest("Invalid temperature value").user_message

    with translation.override("zh-hans"):
        assert errors.translated(message) == message
    assert errors.translated("") == ""


@pytest.mark.parametrize(
    ("prompt", "estimated", "chinese"),
    [(9_000, 9_000, "9,000"), (7_000, 9_500, "2,500")],
)
def test_a_prompt_over_the_context_says_so_in_the_ui_language(prompt, estimated, chinese):
    """Both of ContextTooLong's messages (the prompt alone too long; with the answer length)."""
    message = client_errors.ContextTooLong(
        model="deepseek-flash", estimated_tokens=estimated, prompt_tokens=prompt, limit=8_000
    ).user_message

    assert errors.translated(message) == message  # the English catalogue words it the same
    with translation.override("zh-hans"):
        shown = errors.translated(message)
    assert shown != message and "Shorten" not in shown
    assert "deepseek-flash" in shown and "8,000" in shown and chinese in shown


@pytest.mark.parametrize(("retry_after", "seconds"), [(0.4, 1), (30, 30)])
def test_an_open_circuit_says_when_in_the_ui_language(retry_after, seconds):
    message = client_errors.CircuitOpen("api.deepseek.com", retry_after).user_message

    assert errors.translated(message) == message
    with translation.override("zh-hans"):
        shown = errors.translated(message)
    assert shown != message and "unavailable" not in shown and f"{seconds} 秒" in shown


@pytest.mark.parametrize(
    ("model", "available"),
    [("deepseek-chat", ["deepseek-flash"]), ("deepseek-flash", ["deepseek-flash"]), ("x", [])],
)
def test_an_unknown_model_message_follows_the_ui_language(model, available):
    message = client_errors.UnknownModel(model, available).user_message

    assert errors.translated(message) == message  # the English catalogue words it the same
    with translation.override("zh-hans"):
        shown = errors.translated(message)
    assert shown != message and f"“{model}”" in shown and "DEEPSEEK_MODEL" in shown


@pytest.mark.parametrize(("seconds", "english"), [(1, "in 1 second."), (2, "in 2 seconds.")])
def test_a_rate_limit_with_retry_after_says_when_in_the_ui_language(seconds, english):
    """DeepSeek's Retry-After becomes "Try again in N seconds", with plurals, in Chinese too."""
    message = client_errors.RateLimited("Rate Limit Reached", retry_after=seconds).user_message
    assert english in message and "moment" not in message

    assert errors.translated(message) == message  # the English catalogue words it the same
    with translation.override("zh-hans"):
        shown = errors.translated(message)
    assert shown != message and f"{seconds} 秒" in shown


def test_a_rate_limit_without_retry_after_still_says_wait_a_moment():
    assert "Wait a moment" in client_errors.RateLimited("Rate Limit Reached").user_message
