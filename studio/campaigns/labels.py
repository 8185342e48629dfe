"""The channels' names and the check's violations in the reader's language.

``channels`` stays free of Django; this module words what it answers (codes and parameters).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .channels import BUILT_IN, CTA, LINK, Channel, Counter, Violation

CHANNEL_NAMES = {
    "google_ads_headline": gettext_lazy("Google Ads headline"),
    "google_ads_description": gettext_lazy("Google Ads description"),
    "meta_primary_text": gettext_lazy("Meta primary text"),
    "meta_headline": gettext_lazy("Meta headline"),
    "x_post": gettext_lazy("X post"),
    "linkedin_post": gettext_lazy("LinkedIn post"),
    "sms": gettext_lazy("SMS"),
    "email": gettext_lazy("Email"),
    "email_subject": gettext_lazy("Email subject line"),
    "email_preheader": gettext_lazy("Email preheader"),
    "meta_description": gettext_lazy("Meta description"),
    "landing_hero": gettext_lazy("Landing page hero"),
}
CHANNEL_CHOICES = [(key, CHANNEL_NAMES[key]) for key in BUILT_IN]


def channel_name(key: str) -> str:
    return str(CHANNEL_NAMES.get(key, key))


def violation_message(violation: Violation) -> str:
    """One violation in words."""
    params = violation.params
    match violation.code:
        case "too_long":
            return _("%(length)s of %(limit)s: %(over)s too long.") % {
                **params,
                "over": int(params["length"]) - int(params["limit"]),  # type: ignore[call-overload]
            }
        case "emoji":
            return _("Emoji are not allowed on this channel.")
        case "missing_cta":
            return _("No call to action.")
        case "missing_link":
            return _("No link.")
        case "forbidden_word":
            return _("Forbidden word: “%(word)s”.") % params
        case "item_count":
            return _("%(found)s items; %(expected)s asked for.") % params
        case "too_many_items":
            return _("%(found)s items; this channel takes at most %(max)s.") % params
    return violation.code


def rules_summary(channel: Channel) -> str:
    """A channel's rules in a line: "30 characters · up to 15 items · no emoji"."""
    parts = []
    if channel.limit is not None:
        parts.append(_("%(n)s characters") % {"n": channel.limit})
    elif channel.counter == Counter.SMS:
        parts.append(_("one message (160, or 70)"))
    else:
        parts.append(_("no length rule"))
    if channel.is_list:
        parts.append(_("up to %(n)s items") % {"n": channel.max_items})
    if CTA in channel.requires:
        parts.append(_("call to action required"))
    if LINK in channel.requires:
        parts.append(_("link required"))
    if not channel.emoji:
        parts.append(_("no emoji"))
    return " · ".join(parts)
