"""Forms for the board's calendar and for the emails a person chooses to get."""

from __future__ import annotations

from crispy_forms_gds.layout import Field, Size
from django import forms

from improvement.forms.workflow import GovukDateField, _helper
from improvement.models import EmailPreference


class BoardMeetingForm(forms.Form):
    meets_on = GovukDateField(name="The meeting date", label="Date of the board meeting")
    updates_due_on = GovukDateField(
        name="The date updates are due",
        label="Updates due by",
        required=False,
        help_text="Leave blank for 10 working days before the meeting. For example, 27 3 2027",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        legend = {"legend_size": Size.for_legend(Size.SMALL)}
        self.helper = _helper(
            Field("meets_on", context=legend), Field("updates_due_on", context=legend)
        )


class EmailPreferenceForm(forms.ModelForm):
    class Meta:
        model = EmailPreference
        fields = EmailPreference.SWITCHABLE

    def __init__(self, *args, is_leader: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not is_leader:
            del self.fields["weekly_digest"]
        self.helper = _helper(*(Field.checkbox(name) for name in self.fields))
