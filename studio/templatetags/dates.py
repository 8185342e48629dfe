"""One way to show a moment: ``{{ value|when }}``, in the reader's language and the studio's
time zone (a template builtin: no ``{% load %}`` needed, see TEMPLATES in settings)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import formats, timezone

register = template.Library()


@register.filter
def when(value: datetime | None) -> str:
    """The short localized date and time, in TIME_ZONE.

    en: 12/04/2026 8:35 p.m.; zh-hans: 2026年12月4日 20:35."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "SHORT_DATETIME_FORMAT")
