"""The command line: ``python -m studio.deepseek.simulator --port 8001 --tps 50``."""

from __future__ import annotations

import argparse

from .server import create_app


def main(argv: list[str] | None = None) -> None:
    """Serve the simulator with uvicorn (``python -m studio.deepseek.simulator --help``)."""
    import uvicorn  # only the CLI needs a server; importing the app must stay cheap

    parser = argparse.ArgumentParser(
        prog="python -m studio.deepseek.simulator",
        description="Offline DeepSeek-compatible API server.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--tps", type=float, default=50.0, help="tokens per second")
    parser.add_argument("--first-token-delay", type=float, default=0.3, help="queue seconds")
    parser.add_argument("--keepalive-interval", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--fault", default="", help="directives for every request, e.g. '[[sim:error=503]]'"
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    app = create_app(
        tokens_per_second=args.tps,
        first_token_delay=args.first_token_delay,
        keepalive_interval=args.keepalive_interval,
        seed=args.seed,
        faults=args.fault,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
