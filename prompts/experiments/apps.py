from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExperimentsConfig(AppConfig):
    """A/B and batch experiments on prompt templates: an app of its own above drafts."""

    name = "prompts.experiments"
    label = "experiments"
    verbose_name = _("Experiments")
