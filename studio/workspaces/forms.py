from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import Membership, Workspace


class WorkspaceForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = ["name"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class InviteForm(forms.Form):
    """An owner invites someone by username or email; the answer never says if they exist."""

    who = forms.CharField(label=_("Username or email"), max_length=254)
    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.EDITOR
    )

    def clean_who(self) -> str:
        return self.cleaned_data["who"].strip()


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class JoinForm(UserCreationForm):
    """A new account for an emailed invitation: a username and a password (twice); the email
    address is the invitation's."""

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.email = email  # the password may not resemble it either

    def clean(self):
        email = self.instance.email
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("An account already has this email address: log in to accept instead."),
                code="taken",
            )
        return super().clean()
