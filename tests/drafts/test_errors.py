"""A generation's stored failure shows in the UI language: the studio's own messages and the
client's advice (studio.client_messages)."""

import pytest
from django.utils import translation

from drafts import errors
from drafts.models import Generation
from studio.deepseek import errors as client_errors


@pytest.mark.parametrize("message", [errors.RESTARTED, errors.INTERNAL])
def test_the_studios_own_failure_messages_are_translated(message):
    with translation.override("zh-hans"):
        assert errors.translated(message) != message


@pytest.mark.parametrize(
    "failure",
    [
        client_errors.CircuitOpen("api.deepseek.com", 12),
        client_errors.ContextTooLong(
            model="deepseek-flash", estimated_tokens=9_000, prompt_tokens=9_000, limit=8_000
        ),
    ],
    ids=["CircuitOpen", "ContextTooLong"],
)
def test_a_stored_client_failure_shows_in_chinese(failure):
    generation = Generation(status="failed", error_message=failure.user_message)

    with translation.override("zh-hans"):
        shown = generation.error_text

    assert shown != failure.user_message and not shown.isascii()
