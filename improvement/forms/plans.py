"""Recording a post-inspection action plan as sent: the form checks shape, the service rules."""

from __future__ import annotations

from crispy_forms_gds.layout import Field, Size
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
