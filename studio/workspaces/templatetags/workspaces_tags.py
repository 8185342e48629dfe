"""``{% workspace_can workspace "edit" as may_edit %}``: hide what the user's role cannot use.

Only hides buttons: the views refuse the request anyway (studio.workspaces.access).
"""

from django import template

from studio.workspaces.access import membership

register = template.Library()


@register.simple_tag(takes_context=True)
def workspace_can(context, workspace, capability: str) -> bool:
    """Whether the signed-in user's role in ``workspace`` (or its id) grants ``capability``.

    Without a request it cannot tell, and answers True: the buttons show, and the views still
    refuse. Every page and every stream's final panel is rendered with its viewer's request
    (the SSE view renders the end for the request that watches it:
    drafts.views.generations.final_panel).
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return True
    if workspace is None:
        return False
    workspace_id = getattr(workspace, "pk", workspace)
    member = membership(user, workspace_id=workspace_id)
    return member is not None and member.can(capability)
