"""A generation's failure message in the editor's language.

Failures are stored in English: the DeepSeek client's advice (``studio.client_messages``
translates it) and the studio's own two messages here, for the message catalogue.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

from studio import client_messages

RESTARTED = gettext_noop("The studio restarted while this was being generated.")
INTERNAL = gettext_noop("Something went wrong in the studio; the text so far is kept.")
OWN = frozenset((RESTARTED, INTERNAL))


def translated(message: str) -> str:
    """A stored failure message in the active language (unknown ones as they are)."""
    if message in OWN:
        return gettext(message)
    return client_messages.translated(message)
