"""The values every page gets (studio.context_processors): the htmx timings as htmx writes them."""

import pytest

from studio.context_processors import htmx_interval, studio


@pytest.mark.parametrize(
    ("seconds", "written"),
    [(1, "1s"), (5.0, "5s"), (0.2, "200ms"), (0.5, "500ms"), (1.5, "1500ms"), (0, "0ms")],
)
def test_an_interval_is_written_in_seconds_when_whole(seconds, written):
    assert htmx_interval(seconds) == written


def test_the_polls_follow_the_settings(rf, settings):
    settings.RECOVERING_POLL_SECONDS, settings.BATCH_POLL_SECONDS = 5, 0.25

    values = studio(rf.get("/"))

    assert (values["recovering_poll"], values["batch_poll"]) == ("5s", "250ms")
