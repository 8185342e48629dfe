"""The assistant's failure text: the DeepSeek client's advice in the UI language."""

from django.utils import translation

from studio.assistant.actions import failure_text
from studio.deepseek import CircuitOpen


def test_an_open_circuit_is_explained_in_chinese():
    advice = CircuitOpen("api.deepseek.com", 20).user_message

    with translation.override("zh-hans"):
        shown = failure_text(advice)

    assert "unavailable" not in shown and "20 秒" in shown
