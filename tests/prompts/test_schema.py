"""One typed schema for template data: the editor, import and stored versions alike refuse
(or, for data saved before it, safely ignore) what does not fit, in words naming the field."""

import contextlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from drafts.models import Draft
from prompts.actions import InvalidTemplate, import_template
from prompts.forms import TemplateForm
from prompts.models import PromptTemplate, TemplateVersion
from prompts.schema import TemplateData, VariableSchema, check_template, usable_variables
from prompts.transfer import import_text

HTMX = {"HX-Request": "true"}


def _template(**changes):
    """A valid export entry with one variable, ``who``, changed by ``changes``."""
    item = {
        "slug": "launch",
        "name": "Launch",
        "purpose": "copy",
        "system_prompt": "You write posts.",
        "user_prompt": "Announce to {{ who }}.",
        "variables": [{"name": "who", "label": "Who", "type": "text"}],
    }
    return item | changes


def _variable(**options):
    return {"variables": [{"name": "who", **options}]}


# What the review fed in, and the words that must come back (each names its field).
VARIABLE_CASES = [
    (_variable(max_length="abc"), "Variable 'who': max_length must be a whole number."),
    (_variable(type="number", min="abc"), "Variable 'who': min must be a whole number."),
    (_variable(type="number", min=9, max=1), "Variable 'who': min must not be more than max."),
    (_variable(max_length=-5), "Variable 'who': max_length must be at least 1."),
    (_variable(max_length=10**30), "Variable 'who': max_length must be at most 20000."),
    (_variable(label={"a": 1}), "Variable 'who': label must be a text."),
    (_variable(help={"b": 2}), "Variable 'who': help must be a text."),
    (_variable(label="x" * 121), "Variable 'who': label is too long (120 characters at most)."),
    (_variable(required="yes"), "Variable 'who': required must be true or false."),
    (_variable(type="number", default="many"), "Variable 'who': default must be a whole number"),
    (_variable(colour="red"), "Variable 'who': colour is not a known option."),
    ({"variables": [{"name": {"a": 1}}]}, "Variable #1: name must be a text."),
    ({"variables": ["who"]}, "Variable #1 must be an object."),
]
TEMPLATE_CASES = [
    ({"name": {"a": 1}}, "name must be a text."),
    ({"labels": "production"}, "labels must be a list."),
    ({"labels": ["live now"]}, "Unknown label 'live now' (labels: production, staging)."),
    ({"slug": "Not a slug!"}, "The slug 'Not a slug!' may hold only letters"),
    ({"model": "m" * 1000}, "model is too long (64 characters at most)."),
    ({"model": "deepseek <b>"}, "The model name 'deepseek <b>' may hold only"),
    ({"temperature": "hot"}, "temperature must be a number."),
    ({"temperature": -1}, "temperature must be at least 0"),
    ({"max_tokens": 1e30}, "max_tokens must be a whole number."),
    ({"max_tokens": -3}, "max_tokens must be at least 1."),
    ({"max_tokens": 10**9}, "max_tokens must be at most 65536."),
    ({"thinking": "sure"}, "thinking must be true or false."),
    ({"description": ["x"]}, "description must be a text."),
    ({"brand_voice": {"name": "House"}}, "brand_voice must be a text."),
    ({"secret": 1}, "secret is not a known option."),
]


@pytest.mark.parametrize("changes, message", VARIABLE_CASES + TEMPLATE_CASES)
def test_an_import_that_does_not_fit_the_schema_is_refused_naming_the_field(db, changes, message):
    with pytest.raises(InvalidTemplate) as refused:
        import_text(json.dumps([_template(**changes)]))
    assert message in str(refused.value)
    assert not PromptTemplate.objects.exists()


@pytest.mark.parametrize("changes, message", VARIABLE_CASES + TEMPLATE_CASES[:2])
def test_import_template_itself_checks_the_schema(db, changes, message):
    """The action, not only the file parser: the bench and commands call it directly."""
    with pytest.raises(InvalidTemplate, match="^launch: |^Launch: |^Template: "):
        import_template(data=_template(**changes))
    assert not PromptTemplate.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"labels": ["x" * 100_000]},
        {"slug": "x" * 100_000},
        {"purpose": "x" * 100_000},
        {"model": "x" * 100_000},
        _variable(type="x" * 100_000),
        {"variables": [{"name": "x" * 100_000}]},
    ],
)
def test_a_huge_value_is_not_echoed_back_in_the_message(changes):
    with pytest.raises(InvalidTemplate) as refused:
        check_template(_template(**changes))
    assert len(str(refused.value)) < 300


def test_an_import_through_the_page_says_what_is_wrong_and_saves_nothing(client, user, workspace):
    client.force_login(user)
    upload = SimpleUploadedFile("t.json", json.dumps([_template(temperature="hot")]).encode())

    response = client.post(
        reverse("prompts:import", args=[workspace.pk]), {"file": upload}, follow=True
    )

    html = response.content.decode()
    assert response.status_code == 400  # the library page again, saying why
    assert "Nothing was imported" in html and "temperature must be a number." in html
    assert not PromptTemplate.objects.exists()


def _editor_form(**changes):
    data = {
        "name": "Launch post",
        "purpose": "copy",
        "description": "",
        "system_prompt": "You write posts.",
        "user_prompt": "Announce to {{ who }}.",
        "variables": json.dumps([{"name": "who"}]),
        "model": "",
        "temperature": "",
        "max_tokens": "",
        "note": "",
    }
    return data | changes


EDITOR_CASES = [
    *((_editor_form(variables=json.dumps(c["variables"])), m) for c, m in VARIABLE_CASES),
    (_editor_form(model="m" * 1000), "Ensure this value has at most 64 characters"),
    (_editor_form(model="deepseek <b>"), "may hold only letters, digits and . _ : / -."),
    (_editor_form(temperature="hot"), "Enter a number."),
    (_editor_form(temperature="-1"), "greater than or equal to 0"),
    (_editor_form(max_tokens="1e30"), "Enter a whole number."),
    (_editor_form(max_tokens="-3"), "greater than or equal to 1"),
]


@pytest.mark.parametrize("data, message", EDITOR_CASES)
def test_the_editor_refuses_what_import_refuses_with_a_form_error(
    client, user, workspace, data, message
):
    client.force_login(user)

    response = client.post(reverse("prompts:create", args=[workspace.pk]), data)

    html = response.content.decode()
    assert response.status_code == 200 and escape(message) in html
    assert not PromptTemplate.objects.exists()


def test_the_editor_puts_a_bad_model_name_on_the_model_field(db):
    from prompts.forms import TemplateEditForm

    form = TemplateEditForm(_editor_form(model="a b"))

    assert not form.is_valid()
    assert list(form.errors) == ["model"]


def test_an_export_round_trips_through_the_schema(demo_templates):
    from prompts.transfer import export_data

    for template in demo_templates:
        assert isinstance(check_template(export_data(template)), TemplateData)


# --- Versions stored before the schema ------------------------------------------------------

STORED_BAD = [
    {"name": {"bad": 1}},  # no usable name: left out
    {"label": "No name"},
    {"name": "who", "label": {"a": 1}, "help": {"b": 2}, "max_length": "abc"},
    {"name": "count", "type": "number", "min": "abc", "max": "zzz", "default": "x"},
    {"name": "tone", "type": "choice"},  # no choices: shown as text
]


@pytest.fixture
def stored_bad_version(workspace):
    """A version written straight to the database, as one saved before this fix could be."""
    template = PromptTemplate.objects.create(
        workspace=workspace, slug="old", name="Old", purpose="copy"
    )
    return TemplateVersion.objects.create(
        template=template,
        number=1,
        system_prompt="You write posts.",
        user_prompt="Tell {{ who }} about {{ count }} things in a {{ tone }} tone.",
        variables=STORED_BAD,
    )


def test_a_stored_bad_version_still_shows_the_workspace_page(client, user, stored_bad_version):
    client.force_login(user)
    space = stored_bad_version.template.workspace

    response = client.get(space.get_absolute_url(), {"template": stored_bad_version.template_id})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="who"' in html and 'name="count"' in html and 'name="tone"' in html
    for page in ("prompts:detail", "prompts:edit"):
        url = reverse(page, args=[space.pk, stored_bad_version.template_id])
        assert client.get(url).status_code == 200


def test_a_stored_bad_version_still_generates(client, user, stored_bad_version, launched):
    client.force_login(user)
    url = reverse("drafts:generate", args=[stored_bad_version.template.workspace_id])
    data = {"version": stored_bad_version.pk, "who": "fans", "count": "3", "tone": "warm"}

    refused = client.post(url, {**data, "count": "many"}, headers=HTMX)
    assert refused.status_code == 200 and "Enter a whole number." in refused.content.decode()
    assert not Draft.objects.exists()

    response = client.post(url, data, headers=HTMX)
    assert response.status_code == 200 and Draft.objects.count() == 1 and len(launched) == 1


def test_a_stored_bad_version_answers_the_api_with_a_clear_422(client, user, stored_bad_version):
    """The JSON API builds the same form: a 422 naming the input, never a 500."""
    from studio.api.actions import create_api_key

    key = create_api_key(user=user, name="CMS")[1]
    url = f"/api/ai/workspaces/{stored_bad_version.template.workspace_id}/drafts"
    inputs = {"who": "fans", "count": "many", "tone": "warm"}

    response = client.post(
        url,
        {"template": stored_bad_version.template_id, "inputs": inputs},
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )

    error = response.json()["error"]
    assert response.status_code == 422 and error["code"] == "invalid_inputs"
    assert "count" in error["message"] and not Draft.objects.exists()


def test_a_stored_bad_version_still_takes_a_batch_csv(stored_bad_version):
    """The batch CSV reads the version's variables through the schema too."""
    from prompts.experiments.batch_inputs import parse_inputs

    parsed = parse_inputs(b"who,count,tone\nfans,3,warm\n", stored_bad_version)

    assert parsed.errors == []
    assert [row for _line, row in parsed.rows] == [{"who": "fans", "count": 3, "tone": "warm"}]


def test_a_stored_bad_version_can_be_an_experiment_variant(user, stored_bad_version):
    from prompts.experiments.actions import create_experiment

    variants = [{"name": n, "version": stored_bad_version} for n in ("A", "B")]
    space = stored_bad_version.template.workspace

    experiment = create_experiment(workspace=space, name="E", variants=variants, user=user)

    assert experiment.variants.count() == 2


def test_bad_stored_options_are_dropped_and_the_rest_kept():
    who, count, tone = usable_variables(STORED_BAD)
    assert (who.name, who.label, who.help, who.text_length()) == ("who", "", "", 300)
    assert (count.type, count.min, count.max, count.default) == ("number", None, None, None)
    assert tone.type == "text"


# --- Properties: hostile values only ever get the studio's own error -----------------------

JSON_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
TEMPLATE_KEYS = [*_template(), "model", "thinking", "temperature", "max_tokens", "labels"]
VARIABLE_KEYS = [*VariableSchema.model_fields, "other"]


@example(key="slug", value=":")  # an invalid slug named the template ":: The slug ':' …"
@given(key=st.sampled_from([*TEMPLATE_KEYS, "brand_voice", "extra"]), value=JSON_LIKE)
def test_any_value_for_a_template_key_is_accepted_or_refused_in_words(key, value):
    try:
        check_template(_template(**{key: value}))
    except InvalidTemplate as error:
        assert str(error).startswith(("launch: ", "Launch: ", "Template: "))


@given(options=st.dictionaries(st.sampled_from(VARIABLE_KEYS), JSON_LIKE, max_size=4))
def test_any_variable_options_are_accepted_or_refused_in_words(options):
    try:
        check_template(_template(variables=[{"name": "who", **options}]))
    except InvalidTemplate as error:
        assert str(error).startswith(("launch: ", "Launch: ", "Template: "))


@given(data=JSON_LIKE | st.dictionaries(st.sampled_from(TEMPLATE_KEYS), JSON_LIKE))
def test_any_json_as_a_whole_template_gets_invalid_template_or_passes(data):
    with contextlib.suppress(InvalidTemplate):
        check_template(data)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(key=st.sampled_from(TEMPLATE_KEYS), value=JSON_LIKE)
def test_import_template_only_ever_raises_invalid_template(db, key, value):
    with transaction.atomic():
        with contextlib.suppress(InvalidTemplate):
            import_template(data=_template(**{key: value}))
        transaction.set_rollback(True)


@settings(deadline=None)
@given(variables=st.lists(st.dictionaries(st.sampled_from(VARIABLE_KEYS), JSON_LIKE), max_size=4))
def test_a_form_builds_and_validates_from_any_stored_variables(variables):
    template = PromptTemplate(name="Old", purpose="copy")
    version = TemplateVersion(template=template, system_prompt="", user_prompt="", variables=[])
    version.variables = variables
    form = TemplateForm(version, {})
    form.is_valid()
    assert all(isinstance(name, str) and name.isidentifier() for name in form.fields)
    str(form)


def test_the_messages_are_translated(db):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(InvalidTemplate) as refused:
        check_template(_template(**_variable(max_length="abc")))
    assert "变量 'who'：max_length 必须是整数。" in str(refused.value)
