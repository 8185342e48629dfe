"""One way to set a brand voice: the template's (its version's ``brand_voice``, filling the
reserved ``{{ brand_voice }}``). A ``brand_voice``-typed variable (a voice picked on the
generate form, filling its own placeholder) is no longer a variable type.

Each stored version with such a variable is rewritten in place (versions are immutable to the
app, not to a migration; every generation keeps the messages and inputs it was sent with, so
no draft's history changes): its placeholder becomes ``{{ brand_voice }}``, the variable goes,
and a version of a workspace template that included no voice includes the one the variable
named as its default, else the workspace's only voice, else the first by name. A shared
library template has no workspace voices: its placeholder stays empty until it is duplicated
into a workspace and given a voice there.
"""

import re

from django.db import migrations

BRAND_VOICE = "brand_voice"


def _placeholder(name: str) -> re.Pattern[str]:
    return re.compile(r"\{\{\s*" + re.escape(name) + r"\s*\}\}")


def _voice_for(BrandVoice, version, defaults: list[object]):
    workspace = version.template.workspace_id
    if version.brand_voice_id is not None or workspace is None:
        return None
    voices = BrandVoice.objects.filter(workspace_id=workspace).order_by("name", "pk")
    named = [d for d in defaults if isinstance(d, str) and d]
    return voices.filter(name__in=named).first() or voices.first()


def forwards(apps, schema_editor):
    TemplateVersion = apps.get_model("prompts", "TemplateVersion")
    BrandVoice = apps.get_model("prompts", "BrandVoice")
    for version in TemplateVersion.objects.select_related("template").iterator():
        variables = version.variables if isinstance(version.variables, list) else []
        picked = [
            v for v in variables if isinstance(v, dict) and v.get("type") == BRAND_VOICE
        ]
        if not picked:
            continue
        system, user = version.system_prompt, version.user_prompt
        for var in picked:
            if isinstance(var.get("name"), str) and var["name"]:
                pattern = _placeholder(var["name"])
                system = pattern.sub("{{ brand_voice }}", system)
                user = pattern.sub("{{ brand_voice }}", user)
        changes = {
            "variables": [v for v in variables if not any(v is p for p in picked)],
            "system_prompt": system,
            "user_prompt": user,
        }
        if voice := _voice_for(BrandVoice, version, [v.get("default") for v in picked]):
            changes["brand_voice"] = voice
        TemplateVersion.objects.filter(pk=version.pk).update(**changes)


class Migration(migrations.Migration):
    dependencies = [
        ("prompts", "0006_version_pins_a_voice_version"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
