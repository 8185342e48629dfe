"""The DeepSeek client's advice in the editor's language.

The client (``studio.deepseek``) has no Django, so its advice to editors (``user_message``)
is English, and is stored that way on a generation. Its fixed messages are listed here for
the message catalogue, and :func:`translated` shows one, as raised or as stored, in the
active language; messages with details in them (a model name, a number of seconds, a token
count) are matched by the words the client puts around the details. Any layer that shows the
client's advice (the draft panel, a form's error, the assistant) shows it through here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext, gettext_noop, ngettext

# studio.deepseek.errors: every default_user_message and the timeout advice, word for word
# (tests/studio/test_client_messages.py keeps the two in step).
CLIENT_MESSAGES = (
    gettext_noop(
        "DeepSeek returned an unexpected error. Try again; if it keeps happening, report it."
    ),
    gettext_noop("The DeepSeek API key was rejected. Check DEEPSEEK_API_KEY."),
    gettext_noop(
        "The DeepSeek account has run out of credit. Top up the balance on "
        "platform.deepseek.com, then try again."
    ),
    gettext_noop(
        "DeepSeek is receiving too many requests from this account right now. "
        "Wait a moment and try again."
    ),
    gettext_noop("DeepSeek is overloaded or had a server error. Try again in a minute."),
    gettext_noop("Could not reach DeepSeek in time. Check the network connection and try again."),
    gettext_noop(
        "DeepSeek took too long to start answering (it may be queueing requests). "
        "Try again in a minute."
    ),
    gettext_noop("DeepSeek stopped sending text in the middle of the answer. Try again."),
    gettext_noop(
        "The answer took longer than the allowed time and was stopped. "
        "Try again, or ask for a shorter answer."
    ),
    gettext_noop(
        "Could not connect to DeepSeek. Check the network connection and DEEPSEEK_BASE_URL, "
        "then try again."
    ),
    gettext_noop(
        "DeepSeek sent a response that could not be read. Try again; "
        "if it keeps happening, report it."
    ),
    gettext_noop(
        "The answer was cut off because the connection to DeepSeek dropped before it "
        "finished. Try again."
    ),
    gettext_noop(
        "JSON output needs the word “json” in the system or user message (for example "
        "“Answer in JSON with the keys title and summary”). Add it to the prompt "
        "and try again."
    ),
    gettext_noop(
        "DeepSeek refused this prompt on content-safety grounds. Rephrase the prompt; "
        "sending it unchanged will fail again."
    ),
    gettext_noop("DeepSeek does not know the configured model name. Check DEEPSEEK_MODEL."),
    gettext_noop("The prompt is too long for the model. Shorten it or lower the answer length."),
    gettext_noop("DeepSeek rejected the request as invalid."),
    gettext_noop("The DeepSeek API address was not found. Check DEEPSEEK_BASE_URL."),
)
KNOWN = frozenset(CLIENT_MESSAGES)


def _try_again_in(match: re.Match[str]) -> str:
    count = int(match["count"])
    return ngettext(
        "DeepSeek is receiving too many requests from this account right now. "
        "Try again in %(count)d second.",
        "DeepSeek is receiving too many requests from this account right now. "
        "Try again in %(count)d seconds.",
        count,
    ) % {"count": count}


def _unknown_model(match: re.Match[str]) -> str:
    names = match["names"]
    model = match["model"] or match["model2"]
    values = {"model": model, "names": gettext(names) if names == NO_NAMES else names}
    refused = (
        gettext("DeepSeek refused the model “%(model)s” for this API key, though it lists it.")
        if match["listed"]
        else gettext("DeepSeek has no model called “%(model)s”.")
    )
    advice = gettext(
        "Other models this API key can use: %(names)s. Change the template's model or "
        "DEEPSEEK_MODEL."
    )
    return f"{refused} {advice}" % values


NO_NAMES = gettext_noop("none could be listed")


def _circuit_open(match: re.Match[str]) -> str:
    count = int(match["count"])
    return ngettext(
        "DeepSeek is unavailable right now: several requests in a row failed. The studio "
        "will try it again in about %(count)d second; nothing was sent and nothing was lost.",
        "DeepSeek is unavailable right now: several requests in a row failed. The studio "
        "will try it again in about %(count)d seconds; nothing was sent and nothing was lost.",
        count,
    ) % {"count": count}


def _prompt_over_context(match: re.Match[str]) -> str:
    return gettext(
        "The prompt is about %(prompt)s tokens, more than the %(limit)s tokens %(model)s can "
        "read. Shorten the inputs and try again."
    ) % {"prompt": match["prompt"], "limit": match["limit"], "model": match["model"]}


def _answer_over_context(match: re.Match[str]) -> str:
    return gettext(
        "The prompt (about %(prompt)s tokens) plus the answer length (%(answer)s tokens) "
        "exceeds the %(limit)s-token context of %(model)s. Shorten the inputs or lower the "
        "answer length."
    ) % {
        "prompt": match["prompt"],
        "answer": match["answer"],
        "limit": match["limit"],
        "model": match["model"],
    }


# Client messages with a detail in them, as the client words them in English
# (tests/studio/test_client_messages.py checks each against the client).
DETAILED: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(
            r"DeepSeek is receiving too many requests from this account right now\. "
            r"Try again in (?P<count>\d+) seconds?\."
        ),
        _try_again_in,
    ),
    (
        re.compile(
            r"(?:DeepSeek has no model called “(?P<model>[^”]*)”\."
            r"|(?P<listed>DeepSeek refused the model “(?P<model2>[^”]*)” for this API key, "
            r"though it lists it\.)) Other models this API key can use: (?P<names>.*)\. "
            r"Change the template's model or DEEPSEEK_MODEL\.",
            re.DOTALL,
        ),
        _unknown_model,
    ),
    (
        re.compile(
            r"DeepSeek is unavailable right now: several requests in a row failed\. The studio "
            r"will try it again in about (?P<count>\d+) seconds?; nothing was sent and nothing "
            r"was lost\."
        ),
        _circuit_open,
    ),
    (
        re.compile(
            r"The prompt is about (?P<prompt>[\d,]+) tokens, more than the (?P<limit>[\d,]+) "
            r"tokens (?P<model>\S+) can read\. Shorten the inputs and try again\."
        ),
        _prompt_over_context,
    ),
    (
        re.compile(
            r"The prompt \(about (?P<prompt>[\d,]+) tokens\) plus the answer length "
            r"\((?P<answer>[\d,]+) tokens\) exceeds the (?P<limit>[\d,]+)-token context of "
            r"(?P<model>\S+)\. Shorten the inputs or lower the answer length\."
        ),
        _answer_over_context,
    ),
)


def translated(message: str) -> str:
    """The client's advice, as raised or stored, in the active language (unknown messages,
    such as DeepSeek's own words in a 400, as they are)."""
    if message in KNOWN:
        return gettext(message)
    for pattern, render in DETAILED:
        if match := pattern.fullmatch(message):
            return render(match)
    return message
