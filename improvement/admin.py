"""Admin for the improvement team: data entry, correction and bulk changes.

Actions, notes, evidence and deadline decisions are written through services; status and due
dates are read-only here because they change only with a note or an approved request.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from simple_history.admin import SimpleHistoryAdmin

from improvement import services
from improvement.admin_perf import ActionAdminPerformance
from improvement.models import (
    Action,
    Authority,
    DueDateChange,
    Evidence,
    Finding,
    ImprovementArea,
    Inspection,
    Judgement,
    Measure,
    MeasureValue,
    Milestone,
    ProgressNote,
    Team,
    Theme,
    User,
)

admin.site.site_header = "Improvement tracker administration"
admin.site.site_title = "Improvement tracker"
admin.site.index_title = "Data entry and correction"


def _validation_messages(exc: ValidationError) -> str:
    return "; ".join(exc.messages)


@admin.register(User)
class TrackerUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "job_title", "authority", "is_active")
    list_select_related = ("authority",)
    list_filter = ("is_active", "is_staff", "groups", "authority")
    search_fields = ("username", "first_name", "last_name", "email", "job_title")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Organisation", {"fields": ("job_title", "authority")}),
    )
    autocomplete_fields = ("authority",)


@admin.register(Authority)
class AuthorityAdmin(SimpleHistoryAdmin):
    list_display = ("name", "ons_code", "la_code", "region", "authority_type")
    list_filter = ("region", "authority_type")
    search_fields = ("name", "ons_code", "la_code")


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "authority", "lead")
    list_select_related = ("authority", "lead")
    list_filter = ("kind", "authority")
    search_fields = ("name", "authority__name")
    autocomplete_fields = ("authority", "lead")


class JudgementInline(admin.TabularInline):
    model = Judgement
    extra = 0
    fields = ("position", "area", "grade", "is_overall")


class ImprovementAreaInline(admin.StackedInline):
    model = ImprovementArea
    extra = 0
    fields = (
        ("position", "is_priority_action", "responsible_body"),
        "text",
        ("framework_tag",),
        "themes",
    )
    filter_horizontal = ("themes",)


class FindingInline(admin.StackedInline):
    model = Finding
    extra = 0
    fields = (("number", "section"), "text", "themes")
    filter_horizontal = ("themes",)


@admin.register(Inspection)
class InspectionAdmin(SimpleHistoryAdmin):
    list_display = ("authority", "kind", "start_date", "end_date", "publication_date")
    list_select_related = ("authority",)
    list_filter = ("kind", ("authority", admin.RelatedOnlyFieldListFilter), "start_date")
    search_fields = ("authority__name", "title", "summary", "lead_inspectors")
    date_hierarchy = "start_date"
    autocomplete_fields = ("authority",)
    inlines = (JudgementInline, ImprovementAreaInline, FindingInline)
    fieldsets = (
        (None, {"fields": ("authority", "kind", "title")}),
        ("Dates", {"fields": (("start_date", "end_date"), "publication_date")}),
        ("Report", {"fields": ("lead_inspectors", "report_url", "summary", "outcome")}),
        ("Import", {"fields": ("source_sha256",), "classes": ("collapse",)}),
    )


@admin.register(Judgement)
class JudgementAdmin(SimpleHistoryAdmin):
    list_display = ("area", "grade", "is_overall", "inspection")
    list_select_related = ("inspection__authority",)
    list_filter = ("grade", "is_overall", "inspection__kind")
    search_fields = ("area", "inspection__authority__name")
    autocomplete_fields = ("inspection",)


@admin.register(Finding)
class FindingAdmin(SimpleHistoryAdmin):
    list_display = ("number", "section", "inspection")
    list_select_related = ("inspection__authority",)
    list_filter = ("inspection__kind", "themes")
    search_fields = ("text", "section", "inspection__authority__name")
    autocomplete_fields = ("inspection",)
    filter_horizontal = ("themes",)


@admin.register(ImprovementArea)
class ImprovementAreaAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "position", "is_priority_action", "framework_tag", "inspection")
    list_select_related = ("inspection__authority",)
    list_filter = ("is_priority_action", "inspection__kind", "themes")
    search_fields = ("text", "framework_tag", "inspection__authority__name")
    autocomplete_fields = ("inspection", "supporting_findings")
    filter_horizontal = ("themes",)


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ("position", "title", "due_date", "completed_on")


class ProgressNoteInline(admin.TabularInline):
    """Read-only: notes are append-only and are added with the action's quick update."""

    model = ProgressNote
    extra = 0
    fields = ("created_at", "author", "text", "delivery_status_after", "rag_after")
    readonly_fields = fields
    can_delete = False
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class EvidenceInline(admin.TabularInline):
    model = Evidence
    extra = 0
    fields = ("title", "file", "url", "content_type", "size", "sha256", "added_by")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class DueDateChangeInline(admin.TabularInline):
    model = DueDateChange
    extra = 0
    fields = ("old_date", "new_date", "reason", "requested_by", "status", "decided_by")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReassignOwnerForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True))
    note = forms.CharField(widget=forms.Textarea, required=False)


class BulkStatusForm(forms.Form):
    delivery_status = forms.ChoiceField(choices=Action.DeliveryStatus.choices)
    note = forms.CharField(widget=forms.Textarea, help_text="Recorded on every action changed.")


class ActionAdminForm(forms.ModelForm):
    improvement_areas = forms.ModelMultipleChoiceField(
        queryset=ImprovementArea.objects.select_related("inspection__authority")
    )

    class Meta:
        model = Action
        fields = (
            "reference",
            "title",
            "description",
            "improvement_areas",
            "themes",
            "owner",
            "team",
            "priority",
            "start_date",
            "due_date",
            "success_measure",
            "is_sample",
        )

    def _post_clean(self) -> None:
        # Cross-row rules (one authority, team of that authority) are the service's to check.
        if not self.instance.pk and self.cleaned_data.get("improvement_areas"):
            self.instance.authority = self.cleaned_data["improvement_areas"][0].inspection.authority
        super()._post_clean()


@admin.register(Action)
class ActionAdmin(ActionAdminPerformance, SimpleHistoryAdmin):
    form = ActionAdminForm
    list_display = (
        "reference",
        "title",
        "authority",
        "owner",
        "team",
        "delivery_status",
        "impact_status",
        "rag",
        "due_date",
        "due_date_change_count",
    )
    list_select_related = ("authority", "owner", "team")
    list_filter = (
        "delivery_status",
        "impact_status",
        "rag",
        "priority",
        "authority",
        "team",
        "themes",
        "is_sample",
    )
    search_fields = ("title", "description", "reference", "owner__username", "owner__last_name")
    date_hierarchy = "due_date"
    autocomplete_fields = ("owner", "team", "improvement_areas")
    filter_horizontal = ("themes",)
    inlines = (MilestoneInline, ProgressNoteInline, EvidenceInline, DueDateChangeInline)
    readonly_fields = (
        "authority",
        "original_due_date",
        "delivery_status",
        "impact_status",
        "rag",
        "signed_off_by",
        "signed_off_at",
        "closure_note",
        "last_note_at",
        "due_date_change_count",
        "version",
    )
    actions = ("reassign_owner", "change_status_with_note")
    fieldsets = (
        (None, {"fields": ("reference", "title", "description", "improvement_areas", "themes")}),
        ("Ownership", {"fields": ("owner", "team", "priority")}),
        (
            "Dates",
            {"fields": ("start_date", "due_date", "original_due_date", "due_date_change_count")},
        ),
        (
            "Status",
            {
                "fields": (
                    "delivery_status",
                    "rag",
                    "impact_status",
                    "signed_off_by",
                    "signed_off_at",
                    "closure_note",
                    "last_note_at",
                    "version",
                )
            },
        ),
        ("Success", {"fields": ("success_measure",)}),
        ("Demo", {"fields": ("is_sample",), "classes": ("collapse",)}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Action | None = None):
        # The due date is set once; after that only an approved deadline change moves it.
        if obj is not None:
            return (*self.readonly_fields, "due_date")
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Action, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            fields = [f for f in form.changed_data if f not in ("improvement_areas", "themes")]
            services.action_update(
                action=obj,
                expected_version=Action.objects.get(pk=obj.pk).version,
                by=request.user,
                **{f: data[f] for f in fields if f != "is_sample"},
            )
        else:
            created = services.action_create(
                title=data["title"],
                improvement_areas=list(data["improvement_areas"]),
                owner=data["owner"],
                start_date=data["start_date"],
                due_date=data["due_date"],
                success_measure=data["success_measure"],
                description=data.get("description", ""),
                reference=data.get("reference", ""),
                team=data.get("team"),
                priority=data["priority"],
                themes=data.get("themes", ()),
                is_sample=data.get("is_sample", False),
            )
            obj.pk = created.pk
            obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        form.instance = Action.objects.get(pk=form.instance.pk)
        form.instance.improvement_areas.set(form.cleaned_data["improvement_areas"])
        form.instance.themes.set(form.cleaned_data.get("themes", ()))
        for formset in formsets:
            formset.instance = form.instance
            self.save_formset(request, form, formset, change=change)

    @admin.action(description="Reassign owner of selected actions")
    def reassign_owner(
        self, request: HttpRequest, queryset: QuerySet[Action]
    ) -> HttpResponse | None:
        form = ReassignOwnerForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            result = services.actions_bulk_reassign(
                actions=queryset,
                owner=form.cleaned_data["owner"],
                by=request.user,
                note=form.cleaned_data["note"],
            )
            self.message_user(request, f"Reassigned {result.changed} action(s).", messages.SUCCESS)
            return None
        return self._bulk_form_response(request, queryset, form, "reassign_owner", "Reassign owner")

    @admin.action(description="Change delivery status of selected actions, with a note")
    def change_status_with_note(
        self, request: HttpRequest, queryset: QuerySet[Action]
    ) -> HttpResponse | None:
        form = BulkStatusForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                result = services.actions_bulk_set_status(
                    actions=queryset,
                    delivery_status=form.cleaned_data["delivery_status"],
                    by=request.user,
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                self.message_user(request, _validation_messages(exc), messages.ERROR)
                return None
            self.message_user(request, f"Changed {result.changed} action(s).", messages.SUCCESS)
            if result.skipped:
                self.message_user(
                    request,
                    f"Skipped closed action(s): {', '.join(result.skipped)}",
                    messages.WARNING,
                )
            return None
        return self._bulk_form_response(
            request, queryset, form, "change_status_with_note", "Change delivery status"
        )

    def _bulk_form_response(self, request, queryset, form, action_name, title) -> HttpResponse:
        return TemplateResponse(
            request,
            "admin/improvement/action/bulk_form.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "queryset": queryset,
                "action_name": action_name,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(Milestone)
class MilestoneAdmin(SimpleHistoryAdmin):
    list_display = ("title", "action", "due_date", "completed_on")
    list_select_related = ("action",)
    search_fields = ("title", "action__title")
    autocomplete_fields = ("action",)


@admin.register(ProgressNote)
class ProgressNoteAdmin(admin.ModelAdmin):
    """Notes are append-only: visible here, never edited or deleted."""

    list_display = ("created_at", "action", "author", "delivery_status_after", "rag_after")
    list_select_related = ("action", "author")
    list_filter = ("delivery_status_after", "rag_after", "is_sample")
    search_fields = ("text", "action__title", "author__username")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class EvidenceAdminForm(forms.ModelForm):
    class Meta:
        model = Evidence
        fields = ("action", "title", "file", "url")

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("file")) == bool(cleaned.get("url")):
            raise ValidationError("Give either a file or a link, not both.")
        return cleaned

    def _post_clean(self) -> None:
        # Size, type and hash are worked out by the service when it saves.
        pass


@admin.register(Evidence)
class EvidenceAdmin(SimpleHistoryAdmin):
    form = EvidenceAdminForm
    list_display = ("title", "action", "content_type", "size", "added_by", "created_at")
    list_select_related = ("action", "added_by")
    list_filter = ("content_type", "is_sample")
    search_fields = ("title", "url", "sha256", "action__title")
    autocomplete_fields = ("action",)

    def get_readonly_fields(self, request: HttpRequest, obj: Evidence | None = None):
        if obj is not None:
            return ("action", "file", "url", "size", "content_type", "sha256", "added_by")
        return ()

    def get_fields(self, request: HttpRequest, obj: Evidence | None = None):
        if obj is None:
            return ("action", "title", "file", "url")
        return ("action", "title", "file", "url", "size", "content_type", "sha256", "added_by")

    def save_model(self, request: HttpRequest, obj: Evidence, form, change: bool) -> None:
        if change:
            obj.full_clean()
            obj.save(update_fields=["title", "updated_at"])
            return
        data = form.cleaned_data
        if data.get("file"):
            created = services.evidence_add_file(
                action=data["action"],
                added_by=request.user,
                upload=data["file"],
                title=data["title"],
            )
        else:
            created = services.evidence_add_link(
                action=data["action"],
                added_by=request.user,
                url=data["url"],
                title=data["title"],
            )
        obj.pk = created.pk


@admin.register(DueDateChange)
class DueDateChangeAdmin(SimpleHistoryAdmin):
    list_display = ("action", "old_date", "new_date", "status", "requested_by", "decided_by")
    list_select_related = ("action", "requested_by", "decided_by")
    list_filter = ("status",)
    search_fields = ("action__title", "reason")
    readonly_fields = (
        "action",
        "old_date",
        "new_date",
        "reason",
        "requested_by",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    actions = ("approve", "refuse")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Approve selected deadline changes")
    def approve(self, request: HttpRequest, queryset: QuerySet[DueDateChange]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Refuse selected deadline changes")
    def refuse(self, request: HttpRequest, queryset: QuerySet[DueDateChange]) -> None:
        self._decide(request, queryset, approve=False)

    def _decide(self, request: HttpRequest, queryset, *, approve: bool) -> None:
        decided = 0
        for change in queryset.filter(status=DueDateChange.Status.PENDING):
            try:
                services.due_date_change_decide(
                    change=change,
                    decided_by=request.user,
                    approve=approve,
                    note="" if approve else "Refused in the admin.",
                )
                decided += 1
            except ValidationError as exc:
                self.message_user(request, f"{change}: {_validation_messages(exc)}", messages.ERROR)
        self.message_user(request, f"Decided {decided} request(s).", messages.SUCCESS)


class MeasureValueInline(admin.TabularInline):
    model = MeasureValue
    extra = 1
    fields = ("recorded_on", "value", "note", "recorded_by")
    autocomplete_fields = ("recorded_by",)


@admin.register(Measure)
class MeasureAdmin(SimpleHistoryAdmin):
    list_display = (
        "name",
        "authority",
        "unit",
        "direction",
        "baseline_value",
        "target_value",
        "target_date",
    )
    list_select_related = ("authority",)
    list_filter = ("authority", "unit", "direction")
    search_fields = ("name", "description")
    autocomplete_fields = ("authority", "actions")
    inlines = (MeasureValueInline,)


@admin.register(MeasureValue)
class MeasureValueAdmin(SimpleHistoryAdmin):
    list_display = ("measure", "recorded_on", "value", "recorded_by")
    list_select_related = ("measure__authority", "recorded_by")
    list_filter = ("is_sample",)
    search_fields = ("measure__name",)
    date_hierarchy = "recorded_on"
    autocomplete_fields = ("measure", "recorded_by")
