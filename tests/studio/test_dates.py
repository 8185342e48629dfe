"""Every moment the studio shows is in one localized format: the ``when`` filter."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

MOMENT = datetime(2026, 12, 4, 20, 35, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "shown"), [("en", "12/04/2026 8:35 p.m."), ("zh-hans", "2026年12月4日 20:35")]
)
def test_when_is_the_short_date_and_time_in_the_readers_language(settings, language, shown):
    settings.TIME_ZONE = "UTC"
    with translation.override(language):
        html = Template("{{ moment|when }}|{{ nothing|when }}").render(
            Context({"moment": MOMENT, "nothing": None})
        )  # a builtin: no {% load %}
    assert html == f"{shown}|"


def test_when_shows_the_studios_time_zone(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    with translation.override("zh-hans"):
        assert (
            Template("{{ moment|when }}").render(Context({"moment": MOMENT}))
            == "2026年12月5日 04:35"
        )


# Where another format is right: machine-readable attributes ('c', 'U'), the charts' day
# labels (days, not moments), the invitation email (read outside the studio: with its time
# zone), a duration (batch progress), and the experiment pages (the same SHORT_DATETIME_FORMAT,
# left to the engineer changing them).
ALLOWED = re.compile(r"""\|date:'[cU]'|\|date:"SHORT_DATETIME_FORMAT\"""")
EXCEPTIONS = {
    "components/bar_chart.html",
    "workspaces/invitation_email.txt",
    "prompts/batch_detail.html",
    "knowledge/ingestion.html",  # "No progress for …": a duration, as on the batch page
}


def test_templates_show_moments_through_when_only():
    root = Path(settings.BASE_DIR) / "templates"
    found = []
    for path in root.rglob("*.*"):
        name = path.relative_to(root).as_posix()
        if name in EXCEPTIONS:
            continue
        for hit in re.findall(r"\|(?:date:\S+|timesince|naturaltime)", path.read_text("utf-8")):
            if not ALLOWED.fullmatch(hit.rstrip(" }%")):
                found.append(f"{name}: {hit}")
    assert found == []
