from django import forms


class PickTemplateForm(forms.Form):
    """Which template (by id) the workspace form shows."""

    template = forms.IntegerField(required=False, min_value=1)
    draft = forms.IntegerField(required=False, min_value=1)
