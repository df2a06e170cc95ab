"""Recording a post-inspection action plan as sent: the form checks shape, the service rules."""

from __future__ import annotations

from crispy_forms_gds.layout import Field, Fluid, Size
from django import forms

from improvement.forms.workflow import NOTE_MAX_LENGTH, GovukDateField, _helper
from improvement.models import PlanSubmission


class PlanSubmissionForm(forms.Form):
    stage = forms.ChoiceField(
        label="Which plan was sent?",
        choices=PlanSubmission.Stage.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the draft or the final plan was sent"},
    )
    submitted_on = GovukDateField(
        name="The date the plan was sent", label="When was it sent to Ofsted?"
    )
    url = forms.URLField(
        label="Link to the plan (optional)",
        help_text="Where the plan is published or stored, for example the council's website.",
        required=False,
        max_length=500,
        assume_scheme="https",
        error_messages={"invalid": "Enter a link in the correct format, like https://example.org"},
    )
    file = forms.FileField(label="Or upload the plan (optional)", required=False)
    note = forms.CharField(
        label="Note (optional)",
        help_text="For example who approved it (cabinet, scrutiny) and to whom it was sent.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=NOTE_MAX_LENGTH,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            Field.radios("stage", legend_size=Size.MEDIUM),
            Field("submitted_on", context={"legend_size": Size.for_legend(Size.MEDIUM)}),
            Field.text("url"),
            "file",
            Field.textarea("note"),
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("url") and cleaned.get("file"):
            self.add_error("url", "Give a link or upload the plan, not both")
        cleaned["note"] = (cleaned.get("note") or "").strip()
        return cleaned


class MeasureValueForm(forms.Form):
    """One dated value of a measure of children's outcomes; bounds are the service's to check."""

    value = forms.DecimalField(
        label="Value",
        max_digits=12,
        decimal_places=2,
        # GOV.UK asks for a text input with a numeric keyboard, not type="number".
        widget=forms.TextInput,
        error_messages={
            "required": "Enter the value",
            "invalid": "The value must be a number, like 62.5",
            "max_decimal_places": "The value can have at most 2 decimal places",
            "max_digits": "The value is too large",
            "max_whole_digits": "The value is too large",
        },
    )
    recorded_on = GovukDateField(name="The date the value is for", label="What date is it for?")
    note = forms.CharField(
        label="Note (optional)",
        help_text="Where the figure comes from, and anything that explains it.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=NOTE_MAX_LENGTH,
        required=False,
    )

    def __init__(self, *args, unit_suffix: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].widget.attrs.update({"inputmode": "decimal", "spellcheck": "false"})
        if unit_suffix:
            self.fields["value"].help_text = f"In {unit_suffix}"
        self.helper = _helper(
            Field.text("value", field_width=Fluid.ONE_QUARTER),
            Field("recorded_on", context={"legend_size": Size.for_legend(Size.SMALL)}),
            Field.textarea("note"),
        )
