"""``{% workspace_can workspace "edit" as may_edit %}``: hide what the user's role cannot use.

Only hides buttons: the views refuse the request anyway (studio.workspaces.access).
"""

from django import template

from studio.workspaces.access import membership

register = template.Library()


@register.simple_tag(takes_context=True)
def workspace_can(context, workspace, capability: str) -> bool:
    """Whether the signed-in user's role in ``workspace`` (or its id) grants ``capability``.

    Without a request (the panel the runner renders once when a stream ends) it cannot tell,
    and answers True: the buttons show, and the views still refuse. Watchers whose role may
    not edit get that final panel rendered for their own request instead (drafts.watching).
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
