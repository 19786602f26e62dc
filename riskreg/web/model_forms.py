"""The form that uploads a model with its evaluation data (robustness, efficiency)."""

from typing import Any

from django import forms

MODEL_KIND_CHOICES = [
    ("robustness", "Robustness: attacks and corruptions"),
    ("efficiency", "Efficiency: latency, throughput, size"),
]


class ModelAssessmentForm(forms.Form):
    """Checks the shape of the input only; the service reads the model and the file."""

    model = forms.FileField(
        label="Model file",
        help_text="ONNX, or safetensors weights with their architecture (docs/models.md). "
        "Pickles, joblib and TorchScript files are refused.",
        widget=forms.ClearableFileInput(attrs={"accept": ".onnx,.safetensors"}),
    )
    architecture = forms.FileField(
        required=False,
        label="Architecture (safetensors only)",
        help_text="The JSON list of layers the weights belong to.",
        widget=forms.ClearableFileInput(attrs={"accept": ".json"}),
    )
    file = forms.FileField(
        label="Evaluation data",
        help_text="CSV with a header row, or Parquet: the feature columns and the label.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.parquet,.pq"}),
    )
    kind = forms.ChoiceField(
        choices=MODEL_KIND_CHOICES,
        widget=forms.RadioSelect,
        initial="robustness",
        label="Compute",
    )
    label = forms.CharField(
        max_length=200,
        required=False,
        label="Label column",
        help_text="The true class of each row; robustness needs it.",
    )
    features = forms.CharField(
        max_length=20_000,
        required=False,
        label="Feature columns (optional)",
        help_text="Comma-separated, in the model's input order; empty: every other column.",
    )
    low = forms.FloatField(required=False, label="Inputs at least (optional)")
    high = forms.FloatField(required=False, label="Inputs at most (optional)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The predictions form on the same page has fields named file and label too: ids of
        # their own keep each label pointing at its own input.
        kwargs.setdefault("auto_id", "model-%s")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if (data.get("low") is None) != (data.get("high") is None):
            raise forms.ValidationError("Give both input bounds, or neither.")
        return data

    def mapping(self) -> dict[str, Any]:
        data = self.cleaned_data
        found: dict[str, Any] = {}
        if data["label"]:
            found["label"] = data["label"]
        features = [c.strip() for c in data["features"].split(",") if c.strip()]
        if features:
            found["features"] = features
        return found

    def options(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data.get("low") is None:
            return {}
        return {"input_bounds": [data["low"], data["high"]]}
