from django.contrib import admin

from .models import Source, SourceVersion


class VersionInline(admin.TabularInline):
    model = SourceVersion
    fields = ["number", "kind", "filename", "url", "size", "pages", "created_by", "created"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["title", "workspace", "owner", "created", "archived_at"]
    list_filter = ["archived_at"]
    search_fields = ["title"]
    inlines = [VersionInline]
