"""Failure messages follow the UI language, though the client stores them in English."""

import pytest
from django.utils import translation

from drafts import errors
from drafts.models import Generation
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


@pytest.mark.parametrize("message", [errors.RESTARTED, errors.INTERNAL])
def test_the_studios_own_failure_messages_are_translated(message):
    with translation.override("zh-hans"):
        assert errors.translated(message) != message


def test_a_message_with_details_is_shown_as_stored():
    message = client_errors.ContextTooLong(
        model="deepseek-flash", estimated_tokens=9000, prompt_tokens=9000, limit=8000
    ).user_message

    with translation.override("zh-hans"):
        assert errors.translated(message) == message
    assert errors.translated("") == ""


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
