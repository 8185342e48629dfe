"""``{% assistant_panel draft %}``: the signed-in user's assistant conversation about a draft."""

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from studio.assistant.views import PANEL, panel_context

register = template.Library()


@register.simple_tag(takes_context=True)
def assistant_panel(context, draft) -> SafeString | str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or draft is None:
        return ""
    return render_to_string(f"{PANEL}#assistant-panel", panel_context(draft, user), request=request)
