"""Old home of the batch tasks, kept so that queued jobs still run after a deploy.

django.tasks stores a task by its dotted path: jobs enqueued before the experiments moved
into ``prompts.experiments`` say ``prompts.tasks.run_batch`` or ``prompts.tasks.judge_batch``,
and the worker imports that path. New jobs are queued under ``prompts.experiments.tasks``.
Remove this module once no queued row names it.
"""

from prompts.experiments.tasks import judge_batch, run_batch

__all__ = ["judge_batch", "run_batch"]
