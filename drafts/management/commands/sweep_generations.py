from django.core.management.base import BaseCommand, CommandError

from drafts import sweeper


class Command(BaseCommand):
    help = (
        "End generations that no process runs any more (a crash) as interrupted, their text "
        "kept. The serving process does this every GENERATION_SWEEP_INTERVAL seconds; this "
        "runs one sweep now (needs REDIS_URL: only a shared cache shows other processes' runs)."
    )

    def handle(self, *args, **options) -> None:
        if not sweeper.shared_heartbeats():
            raise CommandError(
                "Without REDIS_URL each process keeps its heartbeats in its own memory: from "
                "here every running generation would look lost. The server sweeps by itself."
            )
        settled = sweeper.sweep()
        self.stdout.write(f"Settled {len(settled)} generation(s) no process ran.")
