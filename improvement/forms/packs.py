"""Forms of the board pack (the meeting's date) and of the plan import (inspection and file)."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from improvement.models import Inspection

PLAN_MAX_BYTES = 10 * 1024 * 1024
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d %B %Y", "%d %b %Y"]


class BoardDateForm(forms.Form):
    board_date = forms.DateField(
        label="Date of the board meeting",
        help_text="For example, 27/03/2027",
        input_formats=DATE_FORMATS,
        error_messages={
            "required": "Enter the date of the board meeting.",
            "invalid": "Enter the date of the board meeting as a date, like 27/03/2027.",
        },
        widget=forms.DateInput(
            format="%d/%m/%Y", attrs={"class": "govuk-input govuk-input--width-10"}
        ),
    )


class PlanImportForm(forms.Form):
    inspection = forms.ModelChoiceField(
        label="The inspection the plan answers",
        queryset=Inspection.objects.none(),
        empty_label="Choose an inspection",
        error_messages={"required": "Choose the inspection the plan answers."},
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    file = forms.FileField(
        label="Upload the plan (CSV or XLSX, with the columns of the actions export)",
        error_messages={
            "required": "Choose the spreadsheet to import.",
            "empty": "The selected file is empty.",
        },
        widget=forms.ClearableFileInput(attrs={"class": "govuk-file-upload"}),
    )

    def __init__(self, *args, inspections: QuerySet[Inspection], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspection"].queryset = inspections

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > PLAN_MAX_BYTES:
            raise forms.ValidationError("The file must be smaller than 10 MB.")
        return upload
