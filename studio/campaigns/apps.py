from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    """Campaigns: one brief, a set of deliverables (template + channel), each generated into
    its own draft through the generate action, and checked against its channel's limits.

    Above drafts (it drives generations through ``drafts.generate.do_generate``) and below the
    interfaces, so the API can use it ([decision](docs/decisions/campaigns-app.md))."""

    name = "studio.campaigns"
    label = "campaigns"
    verbose_name = _("Campaigns")
