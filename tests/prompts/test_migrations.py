"""Data migrations of prompts, run on rows as an older version stored them."""

import importlib

from django.apps import apps

from prompts.actions import save_brand_voice
from prompts.models import PromptTemplate, TemplateVersion

voice_migration = importlib.import_module("prompts.migrations.0007_brand_voice_is_the_templates")


def _version(template, number, variables, **fields):
    return TemplateVersion.objects.create(
        template=template,
        number=number,
        system_prompt=fields.pop("system_prompt", "Style: {{voice}}"),
        user_prompt=fields.pop("user_prompt", "For {{ readers }}; {{ voice }}."),
        variables=variables,
        **fields,
    )


def test_a_brand_voice_variable_becomes_the_templates_brand_voice(db, workspace):
    save_brand_voice(workspace=workspace, name="Alpha", text="A.")
    formal = save_brand_voice(workspace=workspace, name="Formal", text="F.").voice
    house = save_brand_voice(workspace=workspace, name="House", text="H.").voice
    own = PromptTemplate.objects.create(workspace=workspace, slug="o", name="O", purpose="copy")
    readers = {"name": "readers", "type": "audience"}
    picked = _version(
        own, 1, [readers, {"name": "voice", "type": "brand_voice", "default": "Formal"}]
    )
    first = _version(own, 2, [{"name": "voice", "type": "brand_voice"}, readers])
    kept = _version(own, 3, [readers, {"name": "voice", "type": "brand_voice"}], brand_voice=house)
    plain = _version(own, 4, [readers], system_prompt="Plain", user_prompt="{{ readers }}")
    library = PromptTemplate.objects.create(slug="lib", name="Lib", purpose="copy")
    shared = _version(library, 1, [readers, {"name": "voice", "type": "brand_voice"}])

    voice_migration.forwards(apps, None)

    for version in (picked, first, kept, shared):
        version.refresh_from_db()
        assert version.variables == [readers]
        assert version.system_prompt == "Style: {{ brand_voice }}"
        assert version.user_prompt == "For {{ readers }}; {{ brand_voice }}."
    assert picked.brand_voice == formal  # the variable's default named it
    assert first.brand_voice.name == "Alpha"  # else the first by name
    assert kept.brand_voice == house  # a version's own voice stays
    assert shared.brand_voice is None  # the library has no voices of its own
    plain.refresh_from_db()
    assert (plain.system_prompt, plain.variables) == ("Plain", [readers])
    assert picked.build_messages({"readers": "cats"})[1]["content"] == "For cats; F.."
