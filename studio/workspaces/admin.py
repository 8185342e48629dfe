from django.contrib import admin

from .models import Invitation, Membership, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "created_by", "created"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations, answered or not: who was invited where, by whom, and until when."""

    list_display = [
        "sent_to",
        "workspace",
        "role",
        "invitee",
        "invited_by",
        "created",
        "expires_at",
        "accepted_at",
        "declined_at",
    ]
    list_filter = ["role", "created", "expires_at", "accepted_at", "declined_at"]
    list_select_related = ["workspace", "invitee", "invited_by"]
    search_fields = ["sent_to", "workspace__name"]
    raw_id_fields = ["workspace", "invitee", "invited_by"]
    date_hierarchy = "created"
