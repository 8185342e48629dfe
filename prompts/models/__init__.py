"""Prompt templates, labels, brand voices (``templates``), A/B experiments
(``experiments``) and batch experiments (``batches``)."""

from .batches import Batch, BatchQuerySet, BatchRow, JudgeScore
from .experiments import Experiment, ExperimentQuerySet, ExperimentRun, Variant, VariantRun, Vote
from .templates import (
    BRAND_VOICE,
    PRODUCTION,
    BrandVoice,
    BrandVoiceQuerySet,
    BrandVoiceVersion,
    ImmutableError,
    Label,
    LabelChange,
    PromptTemplate,
    PromptTemplateQuerySet,
    TemplateVersion,
)

__all__ = [
    "Batch",
    "BatchQuerySet",
    "BatchRow",
    "JudgeScore",
    "BRAND_VOICE",
    "PRODUCTION",
    "BrandVoice",
    "BrandVoiceQuerySet",
    "BrandVoiceVersion",
    "Experiment",
    "ExperimentQuerySet",
    "ExperimentRun",
    "ImmutableError",
    "Label",
    "LabelChange",
    "PromptTemplate",
    "PromptTemplateQuerySet",
    "TemplateVersion",
    "Variant",
    "VariantRun",
    "Vote",
]
