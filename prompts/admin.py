from django.contrib import admin
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from .models import (
    BrandVoice,
    BrandVoiceVersion,
    Label,
    LabelChange,
    PromptTemplate,
    TemplateVersion,
)
from .transfer import dumps


class ReadOnlyInline(admin.StackedInline):
    """Versions and history are immutable: shown, never edited or deleted here."""

    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class TemplateVersionInline(ReadOnlyInline):
    model = TemplateVersion


class LabelInline(admin.TabularInline):
    model = Label
    extra = 0
    readonly_fields = ["name", "version", "updated"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # labels move through move_label(), which records the history


class LabelChangeInline(ReadOnlyInline):
    model = LabelChange
    fk_name = "template"


def _export(queryset, fmt: str) -> HttpResponse:
    templates = [t for t in queryset if t.current_version()]
    response = HttpResponse(
        dumps(templates, fmt),
        content_type="application/yaml" if fmt == "yaml" else "application/json",
    )
    response["Content-Disposition"] = f'attachment; filename="templates.{fmt}"'
    return response


@admin.action(description=_("Export selected templates as JSON"))
def export_json(modeladmin, request, queryset) -> HttpResponse:
    return _export(queryset, "json")


@admin.action(description=_("Export selected templates as YAML"))
def export_yaml(modeladmin, request, queryset) -> HttpResponse:
    return _export(queryset, "yaml")


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "purpose", "workspace", "created"]
    list_filter = ["purpose"]
    search_fields = ["name", "slug"]
    inlines = [TemplateVersionInline, LabelInline, LabelChangeInline]
    actions = [export_json, export_yaml]


class BrandVoiceVersionInline(ReadOnlyInline):
    model = BrandVoiceVersion


@admin.register(BrandVoice)
class BrandVoiceAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "created"]
    inlines = [BrandVoiceVersionInline]
