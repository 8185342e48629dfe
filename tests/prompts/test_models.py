"""Versions are immutable, labels pick the version in use, brand voices are included."""

import pytest
from django.conf import settings

from prompts.actions import move_label, save_brand_voice, save_version
from prompts.models import ImmutableError


def _data(version, **changes):
    fields = ("system_prompt", "user_prompt", "variables", "model", "thinking", "temperature")
    return {f: getattr(version, f) for f in fields} | {"max_tokens": version.max_tokens} | changes


def test_a_saved_version_cannot_be_changed(product_template):
    version = product_template.current_version()
    version.user_prompt = "Something else"
    with pytest.raises(ImmutableError):
        version.save()
    version.refresh_from_db()
    assert version.user_prompt != "Something else"


def test_current_version_is_production_when_labelled_else_the_newest(product_template, user):
    first = product_template.current_version()
    second, created = save_version(
        template=product_template, data=_data(first, temperature=0.4), user=user
    )
    assert created and product_template.current_version() == second

    move_label(template=product_template, name="production", version=first, user=user)
    assert product_template.current_version() == first

    move_label(template=product_template, name="production", version=None, user=user)
    assert product_template.current_version() == second


def test_label_moves_are_recorded_in_order(product_template, user):
    first = product_template.current_version()
    second, _ = save_version(template=product_template, data=_data(first, model="x"), user=user)
    move_label(template=product_template, name="production", version=first, user=user)
    move_label(
        template=product_template, name="production", version=second, user=user, note="better"
    )
    history = list(product_template.label_changes.order_by("pk"))
    assert [(c.from_version, c.to_version) for c in history] == [(None, first), (first, second)]
    assert history[1].note == "better" and history[1].changed_by == user
    with pytest.raises(ImmutableError):
        history[0].save()


def test_a_label_cannot_point_at_another_templates_version(demo_templates, user):
    a, b = demo_templates[:2]
    from prompts.actions import InvalidTemplate

    with pytest.raises(InvalidTemplate):
        move_label(template=a, name="production", version=b.current_version(), user=user)


def test_an_included_brand_voice_is_edited_once_and_used_everywhere(
    workspace, product_template, product_inputs, user
):
    voice = save_brand_voice(workspace=workspace, name="House", text="Warm, short.").voice
    data = _data(product_template.current_version(), system_prompt="Voice: {{ brand_voice }}")
    version, _ = save_version(template=product_template, data=data, brand_voice=voice, user=user)

    assert version.build_messages(product_inputs)[0]["content"] == "Voice: Warm, short."
    save_brand_voice(workspace=workspace, name="House", text="Bold, direct.", voice=voice)
    assert version.build_messages(product_inputs)[0]["content"] == "Voice: Bold, direct."
    assert voice.versions.count() == 2
    # A form value cannot replace the voice; an explicit override (an experiment) can.
    assert (
        "Warm"
        not in version.build_messages({**product_inputs, "brand_voice": "Warm"})[0]["content"]
    )
    assert version.build_messages(product_inputs, brand_voice="B")[0]["content"] == "Voice: B"


def test_a_hostile_template_reaches_neither_settings_nor_other_objects(
    workspace, product_template, user, other_user
):
    from prompts.actions import InvalidTemplate

    hostile = (
        "{{ settings.SECRET_KEY }} {{ user.password }} {% debug %} {{ brand_voice.voice }}"
        " {% load log %}{% get_admin_log 10 as log %} {{ words }}"
    )
    data = _data(product_template.current_version(), system_prompt=hostile, user_prompt="x")
    version, _ = save_version(template=product_template, data=data, user=user)
    # A bare name that is not a declared variable (the request, a context object) is refused.
    with pytest.raises(InvalidTemplate, match="request"):
        save_version(template=product_template, data={**data, "user_prompt": "{{ request }}"})

    system, _ = version.build_messages({"words": "{{ settings.SECRET_KEY }}"})
    text = system["content"]
    assert settings.SECRET_KEY not in text
    assert other_user.password not in text and user.password not in text
    assert text.startswith("{{ settings.SECRET_KEY }} {{ user.password }} {% debug %}")


def test_a_label_picks_its_version_and_production_is_the_default(product_template, user):
    first = product_template.current_version()
    second, _ = save_version(template=product_template, data=_data(first, temperature=0.4))
    move_label(template=product_template, name="staging", version=second, user=user)
    move_label(template=product_template, name="production", version=first, user=user)

    assert product_template.label_names() == ["production", "staging"]
    assert product_template.version_for(None) == product_template.version_for("") == first
    assert product_template.version_for("production") == first
    assert product_template.version_for("staging") == second
    assert product_template.version_for("canary") is None


def test_a_pinned_voice_version_keeps_its_text_when_the_voice_moves_on(
    workspace, product_template, user
):
    old = save_brand_voice(workspace=workspace, name="House", text="Short and warm.")
    save_brand_voice(workspace=workspace, name="House", text="Long.", voice=old.voice)
    first = product_template.current_version()

    pinned, _ = save_version(
        template=product_template, data=_data(first), brand_voice_version=old, user=user
    )

    assert pinned.brand_voice == old.voice and pinned.voice_version() == old
    assert pinned.brand_voice_text() == "Short and warm."
    same, created = save_version(
        template=product_template, data=_data(first), brand_voice=old.voice
    )
    assert not created and same == pinned  # keeping the voice keeps the pin: nothing changed
