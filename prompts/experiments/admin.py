from django.contrib import admin

from .models import Batch, BatchRow, Experiment, Variant


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    raw_id_fields = ["version", "brand_voice_version"]


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "status", "blind", "created"]
    list_filter = ["status"]
    inlines = [VariantInline]


class BatchRowInline(admin.TabularInline):
    model = BatchRow
    extra = 0
    fields = ["line", "status", "error", "run"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    """Batch experiments (their tasks: django_tasks_db's own admin)."""

    list_display = ["name", "experiment", "status", "done_count", "failed_count", "total"]
    list_filter = ["status", "judge_status"]
    raw_id_fields = ["experiment", "created_by"]
    inlines = [BatchRowInline]
