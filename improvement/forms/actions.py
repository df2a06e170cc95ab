"""The owner's quick update: a note with a status or RAG change, evidence and milestone ticks."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from improvement.models import Action, Milestone

# Service error keys -> the form field that shows them.
SERVICE_FIELDS = {
    "text": "text",
    "delivery_status": "delivery_status",
    "rag": "rag",
    "file": "evidence_file",
    "url": "evidence_url",
    "title": "evidence_title",
}


def _ids(value: str) -> set[int]:
    return {int(part) for part in (value or "").split(",") if part.strip().isdigit()}


class QuickUpdateForm(forms.Form):
    """Validates the shape of the input; the services decide what may change."""

    # First, so that a message about the whole update links to the note.
    text = forms.CharField(
        label="Progress note",
        help_text="What has been done, and what difference it is making for children. "
        "A note is needed to change the status or RAG rating.",
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=10_000,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # The milestones ticked when the form was shown, so only the user's own ticks are applied.
    milestones_initial = forms.CharField(widget=forms.HiddenInput, required=False)
    delivery_status = forms.ChoiceField(
        label="Delivery status",
        choices=Action.DeliveryStatus.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    rag = forms.ChoiceField(
        label="RAG rating",
        choices=[(value, label) for value, label in Action.Rag.choices if value != "blue"],
        widget=forms.RadioSelect,
        required=False,
    )
    milestones = forms.TypedMultipleChoiceField(
        label="Milestones completed",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    evidence_file = forms.FileField(label="Upload a file", required=False)
    evidence_url = forms.URLField(
        label="Or give a link", required=False, max_length=500, assume_scheme="https"
    )
    evidence_title = forms.CharField(
        label="Evidence title",
        help_text="Needed for a link; a file is called by its name if you leave this empty.",
        required=False,
        max_length=250,
    )

    def __init__(self, *args, action: Action, **kwargs):
        self.action = action
        self.milestone_list: list[Milestone] = list(action.milestones.all())
        completed = [m.pk for m in self.milestone_list if m.is_complete]
        kwargs.setdefault(
            "initial",
            {
                "version": action.version,
                "delivery_status": action.delivery_status,
                "rag": action.rag,
                "milestones": completed,
                "milestones_initial": ",".join(map(str, completed)),
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["milestones"].choices = [(m.pk, m.title) for m in self.milestone_list]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("evidence_file") and cleaned.get("evidence_url"):
            self.add_error("evidence_url", "Add a file or a link, not both.")
        if cleaned.get("evidence_url") and not (cleaned.get("evidence_title") or "").strip():
            self.add_error("evidence_title", "Enter a title for the link.")
        return cleaned

    @property
    def milestone_changes(self) -> tuple[set[int], set[int]]:
        """Milestones the user ticked and unticked, relative to what they were shown."""
        shown = _ids(self.cleaned_data.get("milestones_initial", ""))
        ticked = set(self.cleaned_data.get("milestones") or [])
        return ticked - shown, shown - ticked

    @property
    def has_evidence(self) -> bool:
        return bool(self.cleaned_data.get("evidence_file") or self.cleaned_data.get("evidence_url"))

    def add_service_error(self, exc: ValidationError) -> None:
        """Show a service's ValidationError by the field it is about, else at the top."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for key, messages in exc.message_dict.items():
            field = SERVICE_FIELDS.get(key)
            self.add_error(field, messages)

    def rebound_after_conflict(self, *, action: Action) -> QuickUpdateForm:
        """The same input against the action as it now is: a second submit then goes through.

        Milestone ticks are merged: the user's own ticks and unticks over the current state.
        """
        ticked, unticked = self.milestone_changes
        completed = {m.pk for m in action.milestones.all() if m.is_complete}
        data = self.data.copy()
        data["version"] = str(action.version)
        data["milestones_initial"] = ",".join(map(str, sorted(completed)))
        data.setlist("milestones", [str(pk) for pk in sorted((completed | ticked) - unticked)])
        return QuickUpdateForm(data, action=action)
