"""Names the prompts core shares between its models and its schema (which validates what the
models store), kept here so that neither imports the other to read them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# The placeholder every template may use without declaring it: the included brand voice.
BRAND_VOICE = "brand_voice"
PRODUCTION = "production"


class Purpose(models.TextChoices):
    """What a template is for (``PromptTemplate.Purpose``): it picks the model route."""

    COPY = "copy", _("Marketing copy")
    EMAIL = "email", _("Email")
    ADS = "ads", _("Ad set")
    DOCS = "docs", _("Technical documentation")
    REWRITE = "rewrite", _("Rewrite / translate")
