from django.contrib import admin

from .models import PromptTemplate, TemplateVersion


class TemplateVersionInline(admin.StackedInline):
    model = TemplateVersion
    extra = 0
    readonly_fields = ["created", "created_by"]


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "purpose", "workspace", "created"]
    list_filter = ["purpose"]
    search_fields = ["name", "slug"]
    inlines = [TemplateVersionInline]
