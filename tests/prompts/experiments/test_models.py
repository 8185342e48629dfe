"""The experiment models' one-row rules: a variant's name and description."""

import pytest

from prompts.actions import duplicate_template
from prompts.experiments.models import Experiment, Variant


@pytest.mark.parametrize(
    ("name", "temperature", "details", "label"),
    [
        ("v1", None, "", "v1"),  # the default name says it all: nothing twice
        ("v1 · t=1.2", 1.2, "", "v1 · t=1.2"),
        ("Chilled", 0.3, "v1 · t=0.3", "Chilled (v1 · t=0.3)"),
        ("v1 warm", 1.0, "v1 · t=1", "v1 warm (v1 · t=1)"),
    ],
)
def test_a_variant_is_described_without_repeating_its_name(
    user, workspace, product_template, name, temperature, details, label
):
    version = duplicate_template(template=product_template, workspace=workspace, user=user)
    experiment = Experiment.objects.create(workspace=workspace, name="E", created_by=user)
    variant = Variant(
        experiment=experiment, name=name, version=version.versions.get(), temperature=temperature
    )

    assert (variant.details, variant.label) == (details, label)
    # As a run ran it: with the model, still nothing the name says.
    said = variant.describe("deepseek-chat", temperature).split(" · ")
    assert "deepseek-chat" in said and not set(said) & set(name.split(" · "))
