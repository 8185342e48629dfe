from django import forms
from django.utils.translation import gettext_lazy as _

from studio.guardrails.prompt_fields import PromptField

QUESTION_MAX_CHARS = 4000


class AskForm(forms.Form):
    """A question for the assistant: checked like every prompt, never cut short."""

    question = PromptField(
        label=_("Your question"),
        max_chars=QUESTION_MAX_CHARS,
        error_messages={"required": _("Type a question first.")},
    )
