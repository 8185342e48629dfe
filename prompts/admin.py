from django.contrib import admin

from .models import PromptTemplate, TemplateVersion


class TemplateVersionInline(admin.StackedInline):
    """Versions are immutable: shown, never edited or deleted here."""

    model = TemplateVersion
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "purpose", "workspace", "created"]
    list_filter = ["purpose"]
    search_fields = ["name", "slug"]
    inlines = [TemplateVersionInline]
