"""Forms of the notification settings: input checks only; the services decide the rest."""

from typing import Any

from django import forms

from riskreg.notifications.models import NotificationKind

# What each choice of the preferences form means to preferences_update.
CHOICE_VALUES: dict[str, bool | None] = {"default": None, "on": True, "off": False}


def field_name(kind: str) -> str:
    """A kind's form field: "risk.proposed" -> "risk_proposed" (ids stay valid selectors)."""
    return kind.replace(".", "_")


class PreferencesForm(forms.Form):
    """One choice per kind: on, off or the default; a kind left out is left alone."""

    def __init__(self, *args: Any, defaults: dict[str, bool], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            default = "on" if defaults[kind.value] else "off"
            self.fields[field_name(kind.value)] = forms.ChoiceField(
                label=kind.label,
                required=False,
                choices=[("default", f"Default ({default})"), ("on", "On"), ("off", "Off")],
            )

    def choices(self) -> dict[str, bool | None]:
        """The submitted kinds, as preferences_update takes them."""
        return {
            kind.value: CHOICE_VALUES[self.cleaned_data[field_name(kind.value)]]
            for kind in NotificationKind
            if self.cleaned_data.get(field_name(kind.value))
        }


class WebhookForm(forms.Form):
    url = forms.CharField(
        max_length=500,
        label="URL",
        help_text="https:// (or http://) and a public host; riskreg POSTs signed JSON to it.",
    )
    kinds = forms.MultipleChoiceField(
        required=False,
        # Named by code, as receivers see them in the payload (the table above explains each).
        choices=[(kind, kind) for kind in NotificationKind.values],
        widget=forms.CheckboxSelectMultiple,
        label="Kinds",
        help_text="Leave all unticked to receive every kind.",
    )
    description = forms.CharField(max_length=200, required=False, label="Description (optional)")

    def service_arguments(self) -> dict[str, Any]:
        """url, kinds (None: every kind) and description for webhook_create."""
        data = self.cleaned_data
        return {
            "url": data["url"],
            "kinds": data["kinds"] or None,
            "description": data["description"],
        }
