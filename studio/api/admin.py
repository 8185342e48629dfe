from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created", "last_used", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["prefix", "hashed_key", "created", "last_used"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # keys are created by their owner, who alone sees the secret

    @admin.action(description=_("Revoke selected keys"))
    def revoke(self, request, queryset) -> None:
        for key in queryset:
            key.revoke()
