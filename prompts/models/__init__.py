"""Prompt templates, labels, brand voices (``templates``) and A/B experiments (``experiments``)."""

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
