"""bench.pacing: the SSE side of streams measured alone."""

import uvloop

from bench.pacing import measure


def test_the_pacing_benchmark_follows_every_token_of_every_stream():
    """Each watcher gets each token (one frame each at this pace) and the end."""
    cpu, frames = uvloop.run(measure(streams=3, tokens=4))

    assert cpu > 0
    assert frames == 5  # four deltas, then the end
