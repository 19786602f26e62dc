"""Forms of the settings pages: input checks only; the services decide the rest."""

from typing import Any

from django import forms
from django.core.validators import RegexValidator

from riskreg.organisations.roles import Role
from riskreg.organisations.services import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS

USERNAME = RegexValidator(r"^[\w.@+-]+\Z", "Letters, digits and @ . + - _ only.")


class TokenForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="Where you will use it, e.g. “laptop”.")
    days = forms.IntegerField(
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        initial=DEFAULT_TOKEN_DAYS,
        label="Valid for (days)",
        help_text=f"1 to {MAX_TOKEN_DAYS} days.",
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, label="Reason (optional)")


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150, validators=[USERNAME])
    email = forms.EmailField(required=False, label="Email (optional)")
    # The least surprising default: never admin unless someone picks it.
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ENGINEER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ServiceAccountForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=64)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ENGINEER)
    systems = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Limited to these AI systems",
        help_text="Leave all unticked for every system of the organisation.",
    )

    def __init__(self, *args: Any, system_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["systems"].choices = system_choices  # type: ignore[attr-defined]
