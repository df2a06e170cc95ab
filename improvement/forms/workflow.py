"""Forms for deadline change requests and decisions, and for closing or returning an action.

Forms check the shape of what was typed; the services decide what may change, and views turn their
ValidationErrors into form errors with `add_service_errors`.
"""

from __future__ import annotations

import datetime as dt

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Field, Layout, Size
from crispy_forms_gds.widgets import DateInputWidget
from django import forms
from django.core.exceptions import ValidationError

from improvement.models import Action

NOTE_MAX_LENGTH = 5_000


class GovukDateField(forms.MultiValueField):
    """A GOV.UK date input (day, month, year) with the Design System's error messages.

    Errors about one part (a missing month, say) are also put on that part's widget so that
    crispy-forms-gds marks only that box; errors about the whole date mark all three.
    """

    widget = DateInputWidget

    def __init__(self, *, name: str, min_year: int = 2000, max_year: int = 2100, **kwargs):
        # `name` is the field's name as it reads in a sentence, e.g. "The new due date".
        self.name = name
        # A plan's dates sit within a working lifetime; a typo such as 20227 or 0202 is refused
        # here with a message, not carried to the database or to date arithmetic.
        self.min_year, self.max_year = min_year, max_year
        parts = [forms.CharField(required=False, max_length=10) for _ in range(3)]
        kwargs.setdefault("help_text", "For example, 27 3 2027")
        super().__init__(fields=parts, require_all_fields=False, **kwargs)

    def _part_errors(self, missing: list[int], message: str) -> None:
        for index, part in enumerate(self.fields):
            part.widget.errors = [message] if index in missing else []

    def clean(self, value):
        for part in self.fields:
            part.widget.errors = []
        values = [str(v or "").strip() for v in (value or ["", "", ""])]
        values += [""] * (3 - len(values))
        day, month, year = values[:3]
        if not any(values):
            if self.required:
                raise ValidationError(f"Enter {self.name.lower()}", code="required")
            return None
        names = ("day", "month", "year")
        missing = [i for i, v in enumerate((day, month, year)) if not v]
        if missing:
            wanted = " and ".join(names[i] for i in missing)
            message = f"{self.name} must include a {wanted}"
            self._part_errors(missing, message)
            raise ValidationError(message, code="incomplete")
        # isdigit() alone accepts "²" and other digits int() refuses.
        if not all(v.isascii() and v.isdigit() for v in (day, month, year)):
            raise ValidationError(f"{self.name} must be a real date", code="invalid")
        if len(year) != 4:
            self._part_errors([2], "Year must include 4 numbers")
            raise ValidationError("Year must include 4 numbers", code="invalid_year")
        # Parts are checked as text lengths before int(): a month of twenty digits is refused
        # as a month, not turned into a number too large for a date (OverflowError).
        if len(day) > 2 or not 1 <= int(day) <= 31:
            self._part_errors([0], "Day must be between 1 and 31")
            raise ValidationError(f"{self.name} must be a real date", code="invalid_day")
        if len(month) > 2 or not 1 <= int(month) <= 12:
            self._part_errors([1], "Month must be between 1 and 12")
            raise ValidationError(f"{self.name} must be a real date", code="invalid_month")
        if not self.min_year <= int(year) <= self.max_year:
            message = f"Year must be between {self.min_year} and {self.max_year}"
            self._part_errors([2], message)
            raise ValidationError(message, code="year_out_of_range")
        try:
            return dt.date(int(year), int(month), int(day))
        except (ValueError, OverflowError):
            raise ValidationError(f"{self.name} must be a real date", code="invalid") from None

    def compress(self, data_list):  # pragma: no cover - clean() does the work
        return data_list


def _helper(*fields) -> FormHelper:
    helper = FormHelper()
    # Templates write the <form> tag so the CSRF token and buttons sit with the page's markup.
    helper.form_tag = False
    helper.layout = Layout(*fields)
    return helper


def add_service_errors(form: forms.Form, exc: ValidationError, field_map: dict[str, str]) -> None:
    """Show a service's ValidationError on the form: keyed messages by their field."""
    if hasattr(exc, "error_dict"):
        for key, messages in exc.message_dict.items():
            field = field_map.get(key)
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(field_map.get("__all__"), message)


class DeadlineRequestForm(forms.Form):
    new_date = GovukDateField(name="The new due date", label="New due date")
    reason = forms.CharField(
        label="Why does the due date need to change?",
        help_text="Say what has held the action up and what will be done by the new date. "
        "A senior leader will read this before deciding.",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=NOTE_MAX_LENGTH,
        error_messages={"required": "Enter why the due date needs to change"},
    )

    def __init__(self, *args, action: Action, today: dt.date, **kwargs):
        self.action = action
        self.today = today
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            Field("new_date", context={"legend_size": Size.for_legend(Size.MEDIUM)}),
            Field.textarea("reason", label_size=Size.MEDIUM),
        )

    def clean_new_date(self) -> dt.date:
        new_date = self.cleaned_data["new_date"]
        if new_date < self.today:
            raise ValidationError("The new due date must be today or in the future")
        if new_date == self.action.due_date:
            raise ValidationError("The new due date must be different from the current due date")
        if new_date < self.action.start_date:
            raise ValidationError(
                f"The new due date must be on or after the action's start date, "
                f"{self.action.start_date:%-d %B %Y}"
            )
        return new_date

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Enter why the due date needs to change")
        return reason


class DeadlineDecisionForm(forms.Form):
    APPROVE = "approve"
    REFUSE = "refuse"

    decision = forms.ChoiceField(
        label="Do you approve the new due date?",
        choices=[(APPROVE, "Approve the new due date"), (REFUSE, "Refuse the request")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether to approve or refuse the request"},
    )
    decision_note = forms.CharField(
        label="Note for the action owner",
        help_text="Required if you refuse the request: say why, and what you expect instead.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=NOTE_MAX_LENGTH,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            Field.radios("decision", legend_size=Size.MEDIUM),
            Field.textarea("decision_note", label_size=Size.MEDIUM),
        )

    def clean(self):
        cleaned = super().clean()
        note = (cleaned.get("decision_note") or "").strip()
        cleaned["decision_note"] = note
        if cleaned.get("decision") == self.REFUSE and not note:
            self.add_error("decision_note", "Enter why the request is refused")
        return cleaned

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == self.APPROVE


class SignOffForm(forms.Form):
    EVIDENCED = "evidenced"
    WITHOUT_IMPACT = "closed_without_impact"

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    outcome = forms.ChoiceField(
        label="What does the evidence show?",
        choices=[
            (EVIDENCED, "Impact evidenced: the evidence shows a difference for children"),
            (
                WITHOUT_IMPACT,
                "Closed without evidenced impact: close it and record why there is no evidence",
            ),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the impact is evidenced"},
    )
    note = forms.CharField(
        label="Sign-off note",
        help_text="What shows the difference for children, or why the action is closed "
        "without it. This is kept on the action's record.",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=NOTE_MAX_LENGTH,
        error_messages={"required": "Enter a sign-off note"},
    )

    def __init__(self, *args, action: Action, **kwargs):
        kwargs.setdefault("initial", {"version": action.version})
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            "version",
            Field.radios("outcome", legend_size=Size.MEDIUM),
            Field.textarea("note", label_size=Size.MEDIUM),
        )

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if not note:
            raise ValidationError("Enter a sign-off note")
        return note

    @property
    def impact_evidenced(self) -> bool:
        return self.cleaned_data["outcome"] == self.EVIDENCED


class SendBackForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(
        label="Why are you sending the action back?",
        help_text="Say what is missing before it can be signed off. The owner sees this note.",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=NOTE_MAX_LENGTH,
        error_messages={"required": "Enter why the action is sent back"},
    )

    def __init__(self, *args, action: Action, **kwargs):
        kwargs.setdefault("initial", {"version": action.version})
        super().__init__(*args, **kwargs)
        self.helper = _helper("version", Field.textarea("reason", label_size=Size.MEDIUM))

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Enter why the action is sent back")
        return reason
