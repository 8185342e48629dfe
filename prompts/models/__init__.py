"""Prompt templates, their versions and labels, brand voices (``templates``). Experiments
have an app of their own: ``prompts.experiments.models``."""

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
    "ImmutableError",
    "Label",
    "LabelChange",
    "PromptTemplate",
    "PromptTemplateQuerySet",
    "TemplateVersion",
]
