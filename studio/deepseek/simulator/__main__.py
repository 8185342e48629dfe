"""``python -m studio.deepseek.simulator``: serve the simulator (see ``cli.main``)."""

from .cli import main

main()
