from django.contrib import admin

from .models import Draft, DraftVersion, Generation


class DraftVersionInline(admin.TabularInline):
    """Versions are immutable: listed, never edited here."""

    model = DraftVersion
    extra = 0
    can_delete = False
    fields = ["number", "source", "author", "generation", "created"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    list_display = ["title", "workspace", "created_by", "updated"]
    list_select_related = ["workspace", "created_by"]
    search_fields = ["title"]
    inlines = [DraftVersionInline]


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["pk", "draft", "model", "status", "completion_tokens", "ttft_ms", "created"]
    list_filter = ["status", "model"]
    list_select_related = ["draft"]
    readonly_fields = [f.name for f in Generation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
