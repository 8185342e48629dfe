from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    """A workspace's own documents: sources, versions, passages and their search.

    Below drafts (the generate action will draw passages from it) and above the prompts core;
    it imports no drafts and no experiment ([decision](docs/decisions/knowledge-app.md))."""

    name = "prompts.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge")
