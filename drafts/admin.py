from django.contrib import admin

from .models import Draft, DraftVersion, Generation, Suggestion


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
    list_display = ["title", "workspace", "created_by", "updated", "deleted_at"]
    list_filter = [("deleted_at", admin.EmptyFieldListFilter)]
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


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    """Read-mostly: suggestions are decided on the draft page (where the diff is); here they
    are looked up, filtered, and at most deleted."""

    list_display = ["pk", "draft", "kind", "status", "created_by", "base_number", "created"]
    list_filter = ["status", "kind", "created"]
    list_select_related = ["draft", "created_by"]
    search_fields = ["draft__title", "instruction"]
    date_hierarchy = "created"
    readonly_fields = [f.name for f in Suggestion._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
