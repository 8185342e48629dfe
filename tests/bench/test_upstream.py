"""bench.upstream: the upstream read measured alone, at four depths."""

import uvloop

from bench.upstream import measure
from studio.deepseek.simulator import create_app
from tests.servers import run_asgi


def test_the_upstream_benchmark_reads_every_stream_to_its_end_at_every_depth():
    """Each depth reads each stream whole: the socket's reads, h11's body events (one a
    chunk: the simulator's every event and the last, [DONE]), raw reads through httpx, and
    the client's typed events (the answer's tokens, its usage and its finish)."""
    app = create_app(tokens_per_second=2000, first_token_delay=0.01, keepalive_interval=1)
    with run_asgi(app) as url:
        raw_cpu, reads = uvloop.run(measure(f"{url}/v1", "httpx", streams=3, tokens=6, spread=0))
        cpu, events = uvloop.run(measure(f"{url}/v1", "client", streams=3, tokens=6, spread=0))
        socket_cpu, socket_reads = uvloop.run(
            measure(f"{url}/v1", "socket", streams=3, tokens=6, spread=0)
        )
        h11_cpu, chunks = uvloop.run(measure(f"{url}/v1", "h11", streams=3, tokens=6, spread=0))

    assert raw_cpu > 0 and cpu > 0 and socket_cpu > 0 and h11_cpu > 0
    assert reads >= 1 and socket_reads >= 1  # however the bytes came, all of them
    assert chunks == 1 + 6 + 2 + 1  # the role's, a token each, the finish's and usage's, [DONE]
    assert events == 6 + 2  # six tokens, then the usage and the finish
