"""Asking the assistant and clearing a conversation: writes that keep the window bounded."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from drafts.models import Draft
from studio import client_messages
from studio.guardrails.prompt_checks import validate_prompt

from .models import AssistantMessage

SYSTEM_PROMPT = (
    "You are the writing assistant of a content studio. Answer the user's questions about "
    "the draft below: its content, clarity, tone and structure. Be concise; use Markdown. "
    "Do not rewrite the whole draft unless asked.\n\n--- DRAFT ---\n{text}\n--- END ---"
)


def system_message(draft: Draft) -> dict[str, str]:
    """The draft's current text (its latest version) in the system message."""
    latest = draft.versions.order_by("-number").first()
    return {"role": "system", "content": SYSTEM_PROMPT.format(text=latest.text if latest else "")}


@transaction.atomic
def ask(
    *, draft: Draft, user, question: str, window: int
) -> tuple[AssistantMessage, list[dict[str, str]]]:
    """Save the question and an empty answer to stream into; keep the last ``window``
    messages of this user's conversation about this draft and delete older ones.

    Returns the answer to fill in and the messages to send: the system message (the draft)
    and the window, question included, beginning with a question. Raises ``ValidationError``
    (and writes nothing) when those messages may not be sent (``validate_prompt``).
    """
    conversation = AssistantMessage.objects.conversation(user=user, draft=draft)
    AssistantMessage.objects.create(draft=draft, user=user, role="user", content=question)
    recent = list(conversation.filter(status=AssistantMessage.Status.DONE))[-window:]
    while recent and recent[0].role != AssistantMessage.Role.USER:
        recent.pop(0)  # the model's turn only ever follows a question
    messages = [system_message(draft), *(m.as_chat() for m in recent)]
    validate_prompt(messages, sources=_sources(recent))  # raising rolls the question back
    answer = AssistantMessage.objects.create(
        draft=draft, user=user, role="assistant", status=AssistantMessage.Status.STREAMING
    )
    keep = conversation.latest_first().values_list("pk", flat=True)[:window]
    conversation.exclude(pk__in=list(keep)).delete()
    return answer, messages


def _sources(recent: list[AssistantMessage]) -> list[str]:
    """Where each message's text comes from, as the asker knows it (for a refusal)."""
    earlier = {"user": _("an earlier question"), "assistant": _("an earlier answer")}
    named = [earlier.get(m.role, m.role) for m in recent[:-1]]
    return [_("the draft"), *named, _("your question")]


def clear(*, draft: Draft, user) -> int:
    """Forget this user's conversation about the draft; returns how many messages went."""
    deleted, _rows = AssistantMessage.objects.conversation(user=user, draft=draft).delete()
    return deleted


def failure_text(user_message: str) -> str:
    """Why the assistant could not answer; the DeepSeek client's advice in the UI language."""
    why = client_messages.translated(user_message)
    return _("The assistant could not answer: %(why)s") % {"why": why}
