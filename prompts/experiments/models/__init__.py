"""A/B experiments (``experiments``) and batch experiments (``batches``). Their tables keep
the names they had when these models lived in the prompts app (``prompts_experiment``…)."""

from .batches import Batch, BatchQuerySet, BatchRow, JudgeScore
from .experiments import Experiment, ExperimentQuerySet, ExperimentRun, Variant, VariantRun, Vote

__all__ = [
    "Batch",
    "BatchQuerySet",
    "BatchRow",
    "JudgeScore",
    "Experiment",
    "ExperimentQuerySet",
    "ExperimentRun",
    "Variant",
    "VariantRun",
    "Vote",
]
