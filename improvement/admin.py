"""Admin for the improvement team: data entry, correction and bulk changes, under the same rules.

Every ModelAdmin here narrows rows, choices and object permissions through improvement.scope,
and writes only through the services: a refused write comes back as the form's error or a
message, never a server error. Status and due dates change only with a note or an approved
request, so they are read-only; notes, evidence and deadline requests show as read-only lists
that post nothing. Superusers are the platform's administrators; an authority's administrator
sees and changes that authority's records and users only.
"""

from __future__ import annotations

import contextvars
import json

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms.models import ModelChoiceField, ModelMultipleChoiceField
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from improvement import scope, services
from improvement.admin_perf import (
    ActionAdminPerformance,
    CappedCountAdmin,
    ProgressNoteAdminPerformance,
    QuickChoicesFilter,
    WordSearchAdmin,
)
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
    PlanSubmission,
    ProgressNote,
    Team,
    Theme,
    User,
)
from improvement.services import users as user_rules
from improvement.uploads import ALLOWED_TYPES
from improvement.views.workflow import CONCURRENT_EDIT_MESSAGE

admin.site.site_header = "Improvement tracker administration"
admin.site.site_title = "Improvement tracker"
admin.site.index_title = "Data entry and correction"


def _is_scoped(model) -> bool:
    return model in scope.AUTHORITY_PATHS


def _has_simple_history(model) -> bool:
    return hasattr(model._meta, "simple_history_manager_attribute")


def _refusal_message(exc: services.BulkRefused, verb: str) -> str:
    return f"Nothing was {verb}. " + "; ".join(str(r) for r in exc.refusals) + "."


# Forms: choices within reach, service errors shown on the form.


class ServiceErrorsForm(forms.ModelForm):
    """A model form whose errors for fields it does not show go to the top of the form.

    Model validation (clean) and the services may name fields that this admin form has no
    input for (read-only or not shown); Django would raise ValueError for those.
    """

    acting_user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _restrict_choices(self, self.acting_user)

    def _update_errors(self, errors: ValidationError) -> None:
        super()._update_errors(_onto_fields(self, errors))

    def add_service_error(self, exc: Exception) -> None:
        if isinstance(exc, services.ConcurrentEditError):
            if CONCURRENT_EDIT_MESSAGE not in self.non_field_errors():
                self.add_error(None, CONCURRENT_EDIT_MESSAGE)
        else:
            self.add_error(None, _onto_fields(self, exc))


def _onto_fields(form: forms.BaseForm, errors: ValidationError) -> ValidationError:
    if not hasattr(errors, "error_dict"):
        return errors
    mapped: dict[str, list] = {}
    for field, messages_ in errors.error_dict.items():
        key = field if field in form.fields else NON_FIELD_ERRORS
        mapped.setdefault(key, []).extend(messages_)
    return ValidationError(mapped)


def _restrict_choices(form: forms.BaseForm, user) -> None:
    """Every choice of a record of some authority is limited to the authorities `user` reaches."""
    if user is None:
        return
    for field in form.fields.values():
        if isinstance(field, ModelChoiceField | ModelMultipleChoiceField) and _is_scoped(
            field.queryset.model
        ):
            field.queryset = scope.restrict(field.queryset, user)


def _bind_user(form_class, user):
    """The form class for this request: it knows who is acting, to limit its choices."""
    return type(form_class.__name__, (form_class,), {"acting_user": user})


# The base of every improvement ModelAdmin.

_acting_user: contextvars.ContextVar = contextvars.ContextVar("admin_acting_user", default=None)


class ScopedAdmin(SimpleHistoryAdmin):
    """Rows, choices, object permissions and writes under scope and services."""

    form = ServiceErrorsForm

    # Rows and object permissions.

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if _is_scoped(self.model):
            queryset = scope.restrict(queryset, request.user)
        return queryset

    def _reaches(self, request: HttpRequest, obj) -> bool:
        return obj is None or not _is_scoped(type(obj)) or scope.can_reach(request.user, obj)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_view_permission(request, obj) and self._reaches(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._reaches(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self._reaches(request, obj)

    def get_object(self, request: HttpRequest, object_id: str, from_field=None):
        # Another authority's record, or none at all: the same 404 as the pages give.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def get_urls(self):
        urls = super().get_urls()
        if _has_simple_history(self.model):
            return urls
        # No history rows to show for this model: no per-version page either.
        return [url for url in urls if not (url.name or "").endswith("_simple_history")]

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):
        if not _has_simple_history(self.model):
            # Django's own log of admin changes; get_object gives 404 out of reach.
            return admin.ModelAdmin.history_view(self, request, object_id, extra_context)
        self._refuse_unreachable_history(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._refuse_unreachable_history(request, object_id)
        # Reverting would write an old row back past the services: view only.
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request: HttpRequest, obj=None) -> bool:
        return True

    def _refuse_unreachable_history(self, request: HttpRequest, object_id: str) -> None:
        if self.get_queryset(request).filter(pk=object_id).exists():
            return
        history = getattr(self.model, "history", None)
        # On the history model pk is the history row's id; the record's own id is its attname.
        lookup = {self.model._meta.pk.attname: object_id}
        latest = history.filter(**lookup).order_by("-history_date").first() if history else None
        if latest is None or not self._reaches(request, latest.instance):
            raise Http404

    # Forms.

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = _bind_user(super().get_form(request, obj, change=change, **kwargs), request.user)
        error = getattr(request, "_service_error", None)
        if error is None:
            return form

        class WithServiceError(form):
            def _post_clean(self):
                super()._post_clean()
                self.add_service_error(error)

        return WithServiceError

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Save through the services; if they refuse, show the same form with their reason."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, services.ConcurrentEditError) as exc:
            if request.method != "POST" or hasattr(request, "_service_error"):
                raise
            # The transaction has rolled back; render the posted form again with the error.
            request._service_error = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
            )

    # Writes, through the services.

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        m2m = {
            f.name: form.cleaned_data[f.name]
            for f in obj._meta.many_to_many
            if f.name in form.cleaned_data
        }
        services.record_save(obj=obj, by=request.user, m2m=m2m)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # Many-to-many links were saved with the record; inlines go through the services.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        formset.save(commit=False)  # builds the instances and the change lists; writes nothing
        for obj in formset.deleted_objects:
            services.record_delete(obj=obj, by=request.user)
        changed = [obj for obj, _ in formset.changed_objects]
        for inline_form in formset.forms:
            obj = inline_form.instance
            if obj in formset.new_objects or obj in changed:
                setattr(obj, formset.fk.name, formset.instance)
                m2m = {
                    f.name: inline_form.cleaned_data[f.name]
                    for f in obj._meta.many_to_many
                    if f.name in inline_form.cleaned_data
                }
                services.record_save(obj=obj, by=request.user, m2m=m2m)

    def delete_model(self, request: HttpRequest, obj) -> None:
        services.record_delete(obj=obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.records_delete(objs=queryset, by=request.user)

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            _, name, description = actions["delete_selected"]
            actions["delete_selected"] = (delete_selected_or_none, name, description)
        return actions


def delete_selected_or_none(modeladmin, request, queryset):
    """Django's delete-selected, all or nothing: a refusal names each row and deletes none."""
    try:
        return django_delete_selected(modeladmin, request, queryset)
    except services.BulkRefused as exc:
        modeladmin.message_user(request, _refusal_message(exc, "deleted"), messages.ERROR)
        return None


class ScopedInline(admin.TabularInline):
    """An inline whose rows and choices are within the user's reach."""

    form = ServiceErrorsForm

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if _is_scoped(self.model):
            queryset = scope.restrict(queryset, request.user)
        return queryset

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = _bind_user(formset.form, request.user)
        return formset


class ScopedStackedInline(ScopedInline):
    template = admin.StackedInline.template


# Read-only lists: what an inline would post back, shown instead as plain tables.


def _table(headers: tuple[str, ...], rows, empty: str) -> str:
    rows = list(rows)
    if not rows:
        return format_html("<p>{}</p>", empty)
    head = format_html_join("", "<th scope='col'>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


# Users: an authority's administrator manages that authority's users, within their own grant.


class ActingPasswordForm(AdminPasswordChangeForm):
    """The admin's password form, saving through the users service."""

    def save(self, commit: bool = True) -> User:
        usable = self.cleaned_data.get("set_usable_password", True)
        password = self.cleaned_data.get("password1") if usable else None
        return services.user_set_password(user=self.user, by=_acting_user.get(), password=password)


@admin.register(User)
class TrackerUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "job_title", "authority", "is_active")
    list_select_related = ("authority",)
    list_filter = (
        "is_active",
        "is_staff",
        "groups",
        ("authority", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("username", "first_name", "last_name", "email", "job_title")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Organisation", {"fields": ("job_title", "authority", "reach", "region")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        ("Person", {"fields": ("first_name", "last_name", "email", "job_title")}),
        ("Access", {"fields": ("authority", "reach", "region", "groups")}),
    )
    autocomplete_fields = ("authority",)
    change_password_form = ActingPasswordForm

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request) & user_rules.manageable_users(request.user)

    def _manages(self, request: HttpRequest, obj) -> bool:
        return obj is None or user_rules.manageable_users(request.user).filter(pk=obj.pk).exists()

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_view_permission(request, obj) and self._manages(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._manages(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # People are deactivated, not deleted: their notes and decisions stay attributed.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_object(self, request: HttpRequest, object_id: str, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def get_fieldsets(self, request: HttpRequest, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        hidden = {"is_superuser", "user_permissions"}
        return tuple(
            (name, {**options, "fields": tuple(f for f in options["fields"] if f not in hidden)})
            for name, options in fieldsets
        )

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly.append("is_staff")
            if obj is not None and obj.pk == request.user.pk:
                # Nobody raises their own access; another administrator must.
                readonly += ["groups", "authority", "reach", "region", "is_active"]
        return readonly

    def get_form(self, request: HttpRequest, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        user = request.user

        class ActingUserForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                if "groups" in self.fields:
                    self.fields["groups"].queryset = user_rules.grantable_roles(user)
                if "authority" in self.fields:
                    self.fields["authority"].queryset = scope.authorities_for(user)
                    if obj is None and not self.is_bound:
                        self.initial.setdefault("authority", scope.default_authority(user))

            def _post_clean(self):
                super()._post_clean()
                error = getattr(request, "_service_error", None)
                if error is not None:
                    self.add_error(None, _onto_fields(self, error))

        return ActingUserForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            if request.method != "POST" or hasattr(request, "_service_error"):
                raise
            request._service_error = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = ""):
        token = _acting_user.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _acting_user.reset(token)

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            fields = set(form.changed_data) & user_rules.UPDATABLE_FIELDS
            stored = User.objects.get(pk=obj.pk)
            # The form has already set the posted values on obj: compare with the stored row.
            saved = services.user_update(
                user=stored,
                by=request.user,
                groups=data["groups"] if "groups" in form.changed_data else None,
                user_permissions=(
                    data["user_permissions"] if "user_permissions" in form.changed_data else None
                ),
                **{f: data[f] for f in fields},
            )
        else:
            usable = data.get("usable_password", "true") in (True, "true")
            saved = services.user_create(
                by=request.user,
                username=data["username"],
                password=data.get("password1") if usable else None,
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                email=data.get("email", ""),
                job_title=data.get("job_title", ""),
                authority=data.get("authority"),
                reach=data.get("reach") or User.Reach.AUTHORITY,
                region=data.get("region", ""),
                groups=data.get("groups", ()),
            )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # Roles were granted (or refused) by the service with the user.
        return None


# Reference data shared across authorities: the platform's administrators change it.


class PlatformOnly:
    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(Authority)
class AuthorityAdmin(PlatformOnly, ScopedAdmin):
    list_display = ("name", "ons_code", "la_code", "region", "authority_type")
    list_filter = ("region", "authority_type")
    search_fields = ("name", "ons_code", "la_code")


@admin.register(Theme)
class ThemeAdmin(PlatformOnly, ScopedAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Team)
class TeamAdmin(ScopedAdmin):
    list_display = ("name", "kind", "authority", "lead")
    list_select_related = ("authority", "lead")
    list_filter = ("kind", ("authority", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "authority__name")
    autocomplete_fields = ("authority", "lead")


# Inspections and what they found.


class LeadInspectorsField(forms.CharField):
    """Lead inspectors keyed one per line, stored as the JSON list the importer writes."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return value
        if isinstance(value, list):
            return "\n".join(str(name) for name in value)
        return value or ""

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def has_changed(self, initial, data) -> bool:
        return self.to_python(self.prepare_value(initial)) != self.to_python(data)


class InspectionAdminForm(ServiceErrorsForm):
    lead_inspectors = LeadInspectorsField(
        required=False, help_text="One lead inspector per line, as the report names them."
    )

    class Meta:
        model = Inspection
        fields = (
            "authority",
            "kind",
            "title",
            "start_date",
            "end_date",
            "publication_date",
            "lead_inspectors",
            "report_url",
            "summary",
            "outcome",
            "source_sha256",
        )


class NumberedInlineMixin:
    """The next number is filled in for each new row (static/js/admin_numbering.js)."""

    number_field = "position"

    class Media:
        js = ("js/admin_numbering.js",)

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        field = formset.form.base_fields.get(self.number_field)
        if field is not None:
            field.widget.attrs["data-autonumber"] = self.number_field
            # An empty new row, not the model's default of 0, so the script can number it.
            field.initial = None
        return formset


class JudgementInline(NumberedInlineMixin, ScopedInline):
    model = Judgement
    extra = 0
    fields = ("position", "area", "grade", "is_overall")


class ImprovementAreaInline(NumberedInlineMixin, ScopedStackedInline):
    model = ImprovementArea
    extra = 0
    fields = (
        ("position", "is_priority_action", "responsible_body"),
        "text",
        ("framework_tag",),
        "themes",
    )
    filter_horizontal = ("themes",)


class FindingInline(NumberedInlineMixin, ScopedStackedInline):
    model = Finding
    extra = 0
    number_field = "number"
    fields = (("number", "section"), "text", "themes")
    filter_horizontal = ("themes",)


@admin.register(Inspection)
class InspectionAdmin(ScopedAdmin):
    form = InspectionAdminForm
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
class JudgementAdmin(ScopedAdmin):
    list_display = ("area", "grade", "is_overall", "inspection")
    list_select_related = ("inspection__authority",)
    list_filter = ("grade", "is_overall", "inspection__kind")
    search_fields = ("area", "inspection__authority__name")
    autocomplete_fields = ("inspection",)


@admin.register(Finding)
class FindingAdmin(ScopedAdmin):
    list_display = ("number", "section", "inspection")
    list_select_related = ("inspection__authority",)
    list_filter = ("inspection__kind", "themes")
    search_fields = ("text", "section", "inspection__authority__name")
    autocomplete_fields = ("inspection",)
    filter_horizontal = ("themes",)


class ParagraphChoiceField(forms.ModelMultipleChoiceField):
    """A paragraph is known by its inspection, number and opening words."""

    def label_from_instance(self, obj: Finding) -> str:
        opening = " ".join(obj.text.split()[:12])
        return f"{obj.inspection}, paragraph {obj.number}: {opening}…"


class ImprovementAreaAdminForm(ServiceErrorsForm):
    supporting_findings = ParagraphChoiceField(
        queryset=Finding.objects.select_related("inspection__authority").order_by(
            "inspection", "number"
        ),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 12}),
    )

    class Meta:
        model = ImprovementArea
        fields = (
            "inspection",
            "position",
            "text",
            "framework_tag",
            "is_priority_action",
            "responsible_body",
            "supporting_findings",
            "themes",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.inspection_id is not None:
            field = self.fields["supporting_findings"]
            field.queryset = field.queryset.filter(inspection_id=self.instance.inspection_id)

    def clean(self):
        cleaned = super().clean()
        inspection = cleaned.get("inspection")
        findings = cleaned.get("supporting_findings") or []
        if inspection is not None and any(f.inspection_id != inspection.pk for f in findings):
            self.add_error(
                "supporting_findings", "Choose paragraphs of this area's own inspection."
            )
        return cleaned


@admin.register(ImprovementArea)
class ImprovementAreaAdmin(ScopedAdmin):
    form = ImprovementAreaAdminForm
    list_display = ("__str__", "position", "is_priority_action", "framework_tag", "inspection")
    list_select_related = ("inspection__authority",)
    list_filter = ("is_priority_action", "inspection__kind", "themes")
    search_fields = ("text", "framework_tag", "inspection__authority__name")
    autocomplete_fields = ("inspection",)
    filter_horizontal = ("themes",)


# Actions.


class MilestoneInline(NumberedInlineMixin, ScopedInline):
    model = Milestone
    extra = 0
    fields = ("position", "title", "due_date", "completed_on")


class ReassignOwnerForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=User.objects.none())
    note = forms.CharField(widget=forms.Textarea, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = scope.restrict(User.objects.filter(is_active=True), user)


class BulkStatusForm(forms.Form):
    delivery_status = forms.ChoiceField(choices=Action.DeliveryStatus.choices)
    note = forms.CharField(widget=forms.Textarea, help_text="Recorded on every action changed.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)


class ActionAdminForm(ServiceErrorsForm):
    # The version the user opened: a save over someone else's is refused, as on the pages.
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and not self.is_bound:
            self.initial["expected_version"] = self.instance.version
        if "improvement_areas" in self.fields:
            self.fields["improvement_areas"].required = True

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None:
            opened = cleaned.get("expected_version")
            current = Action.objects.filter(pk=self.instance.pk).values_list("version", flat=True)
            if opened is None or opened != current.first():
                raise ValidationError(CONCURRENT_EDIT_MESSAGE)
        areas = cleaned.get("improvement_areas")
        if areas:
            authorities = {area.inspection.authority_id for area in areas}
            if len(authorities) > 1 or (
                self.instance.pk is not None and authorities != {self.instance.authority_id}
            ):
                self.add_error(
                    "improvement_areas",
                    "An action answers improvement areas of its own authority only.",
                )
        return cleaned

    def _post_clean(self) -> None:
        # A new action takes its authority from its improvement areas (the service does too).
        if not self.instance.pk and self.cleaned_data.get("improvement_areas"):
            self.instance.authority = self.cleaned_data["improvement_areas"][0].inspection.authority
        super()._post_clean()


# The action changelist's filters by authority and team. Django's RelatedOnlyFieldListFilter
# finds its choices with SELECT DISTINCT over every action in reach (a million rows nationally);
# these read the authority and team tables, which are small, under the same scope as the rows.


class ScopedAuthorityListFilter(QuickChoicesFilter, admin.RelatedFieldListFilter):
    """The authorities the user reaches (one for an authority's administrator: then hidden)."""

    def field_choices(self, field, request: HttpRequest, model_admin):
        return list(scope.authorities_for(request.user).values_list("pk", "name"))


class ScopedTeamListFilter(QuickChoicesFilter, admin.RelatedFieldListFilter):
    """The teams of one authority: the user's own, or the one chosen in the authority filter.

    Team names repeat from one authority to the next ("Children in care"), so for a user who
    reaches many authorities the teams are offered once an authority is chosen (or a team is,
    from a link), not as hundreds of look-alike names.
    """

    authority_kwarg = "authority__id__exact"

    def field_choices(self, field, request: HttpRequest, model_admin):
        teams = scope.restrict(Team.objects.all(), request.user)
        authority = request.GET.get(self.authority_kwarg, "")
        if authority.isdigit():
            teams = teams.filter(authority_id=authority)
        elif scope.reaches_many(request.user):
            chosen = self.lookup_val[0] if self.lookup_val else ""
            if not str(chosen).isdigit():
                return []
            teams = teams.filter(authority__in=Team.objects.filter(pk=chosen).values("authority"))
        return [(t.pk, t.name) for t in teams.order_by("name", "pk").only("pk", "name")]


@admin.register(Action)
class ActionAdmin(ActionAdminPerformance, ScopedAdmin):
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
    # What the rows read: the columns above, and what each row's and related row's __str__
    # reads (the checkbox's label names the action). A column left out here would be read
    # again row by row: the changelist's query-count tests catch that.
    list_columns = (
        "reference",
        "title",
        "authority__name",
        "owner__username",
        "owner__first_name",
        "owner__last_name",
        "team__name",
        "delivery_status",
        "impact_status",
        "rag",
        "due_date",
        "due_date_change_count",
    )
    list_filter = (
        "delivery_status",
        "impact_status",
        "rag",
        "priority",
        ("authority", ScopedAuthorityListFilter),
        ("team", ScopedTeamListFilter),
        "themes",
        "is_sample",
    )
    search_fields = ("title", "description", "reference", "owner__username", "owner__last_name")
    # Ten columns a row: fifty rows a page keep the page quicker than Django's plain changelist
    # of one column at a hundred.
    list_per_page = 50
    # Facet counts would count every filter choice over every action in reach, on each page.
    show_facets = admin.ShowFacets.NEVER
    date_hierarchy = "due_date"
    autocomplete_fields = ("owner", "team", "improvement_areas")
    filter_horizontal = ("themes",)
    inlines = (MilestoneInline,)
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
        "progress_notes",
        "evidence_list",
        "deadline_changes",
    )
    actions = ("reassign_owner", "change_status_with_note")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "reference",
                    "title",
                    "description",
                    "improvement_areas",
                    "themes",
                    "expected_version",
                )
            },
        ),
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
        ("Record", {"fields": ("progress_notes", "evidence_list", "deadline_changes")}),
        ("Demo", {"fields": ("is_sample",), "classes": ("collapse",)}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Action | None = None):
        if obj is not None:
            return self.fieldsets
        # A new action has no version, notes, evidence or requests yet.
        return tuple(
            (
                name,
                {
                    **options,
                    "fields": tuple(
                        f
                        for f in options["fields"]
                        if f not in ("expected_version", "progress_notes")
                        and f not in ("evidence_list", "deadline_changes")
                    ),
                },
            )
            for name, options in self.fieldsets
            if name != "Record"
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Action | None = None):
        # The due date is set once; after that only an approved deadline change moves it.
        if obj is not None:
            return (*self.readonly_fields, "due_date")
        return self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Action | None = None) -> bool:
        # A closed action is the record of what was signed off: view only, as on the pages.
        return super().has_change_permission(request, obj) and not (obj and obj.is_closed)

    def has_delete_permission(self, request: HttpRequest, obj: Action | None = None) -> bool:
        # Actions are part of the audit trail: kept, never deleted here.
        return False

    @admin.display(description="Progress notes")
    def progress_notes(self, obj: Action) -> str:
        notes = obj.notes.select_related("author").order_by("-created_at", "-pk")
        return _table(
            ("When", "By", "Note", "Status after", "RAG after"),
            (
                (
                    f"{n.created_at:%d %b %Y %H:%M}",
                    n.author,
                    n.text,
                    n.get_delivery_status_after_display(),
                    n.get_rag_after_display(),
                )
                for n in notes
            ),
            "No progress notes yet.",
        )

    @admin.display(description="Evidence")
    def evidence_list(self, obj: Action) -> str:
        rows = obj.evidence.select_related("added_by").order_by("-created_at", "-pk")
        return _table(
            ("Title", "File or link", "SHA-256", "Added by"),
            (
                (
                    format_html(
                        '<a href="{}">{}</a>',
                        reverse("admin:improvement_evidence_change", args=[e.pk]),
                        e.title,
                    ),
                    e.url or e.file.name,
                    e.sha256,
                    e.added_by,
                )
                for e in rows
            ),
            "No evidence yet.",
        )

    @admin.display(description="Deadline changes")
    def deadline_changes(self, obj: Action) -> str:
        rows = obj.due_date_changes.select_related("requested_by", "decided_by")
        return _table(
            ("From", "To", "Reason", "Asked by", "Decision", "Decided by"),
            (
                (
                    c.old_date,
                    c.new_date,
                    c.reason,
                    c.requested_by,
                    c.get_status_display(),
                    c.decided_by or "",
                )
                for c in rows
            ),
            "No deadline changes.",
        )

    def save_model(self, request: HttpRequest, obj: Action, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            editable = {
                "title",
                "description",
                "reference",
                "owner",
                "team",
                "priority",
                "success_measure",
                "start_date",
            }
            fields = [f for f in form.changed_data if f in editable]
            services.action_update(
                action=obj,
                expected_version=data["expected_version"],
                by=request.user,
                **{f: data[f] for f in fields},
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
        if change and {"improvement_areas", "themes"} & set(form.changed_data):
            services.action_set_links(
                action=form.instance,
                by=request.user,
                improvement_areas=form.cleaned_data["improvement_areas"],
                themes=form.cleaned_data.get("themes", ()),
            )
        for formset in formsets:
            formset.instance = form.instance
            self.save_formset(request, form, formset, change=change)

    # Bulk actions: all or nothing, each refused row named with its reason.

    @admin.action(description="Reassign owner of selected actions")
    def reassign_owner(self, request: HttpRequest, queryset: QuerySet[Action]):
        form = ReassignOwnerForm(
            request.POST if "apply" in request.POST else None, user=request.user
        )
        if form.is_valid():
            try:
                changed = services.actions_reassign(
                    actions=queryset,
                    owner=form.cleaned_data["owner"],
                    by=request.user,
                    note=form.cleaned_data["note"],
                    versions=_posted_versions(request),
                )
            except services.BulkRefused as exc:
                self.message_user(request, _refusal_message(exc, "reassigned"), messages.ERROR)
                return None
            self.message_user(request, f"Reassigned {changed} action(s).", messages.SUCCESS)
            return None
        return self._bulk_form_response(request, queryset, form, "reassign_owner", "Reassign owner")

    @admin.action(description="Change delivery status of selected actions, with a note")
    def change_status_with_note(self, request: HttpRequest, queryset: QuerySet[Action]):
        form = BulkStatusForm(request.POST if "apply" in request.POST else None, user=request.user)
        if form.is_valid():
            try:
                changed = services.actions_set_status(
                    actions=queryset,
                    delivery_status=form.cleaned_data["delivery_status"],
                    by=request.user,
                    note=form.cleaned_data["note"],
                    versions=_posted_versions(request),
                )
            except services.BulkRefused as exc:
                self.message_user(request, _refusal_message(exc, "changed"), messages.ERROR)
                return None
            self.message_user(request, f"Changed {changed} action(s).", messages.SUCCESS)
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


def _posted_versions(request: HttpRequest) -> dict[int, int] | None:
    """The versions shown on the confirmation page (version-<id>), if it posted them."""
    versions = {}
    for key, value in request.POST.items():
        if key.startswith("version-"):
            try:
                versions[int(key.removeprefix("version-"))] = int(value)
            except ValueError:
                continue
    return versions or None


@admin.register(Milestone)
class MilestoneAdmin(WordSearchAdmin, ScopedAdmin):
    list_display = ("title", "action", "due_date", "completed_on")
    list_select_related = ("action",)
    # Two million milestones: their own title's words (a GIN index). An action's title is
    # searched on the action changelist, and the action's page lists its milestones.
    search_fields = ("title",)
    word_search_fields = ("title",)
    search_help_text = "Words in the milestone's title. To find an action's milestones, open it."
    # By action, as they are listed: the action's due-date index serves it; the other columns
    # would sort two million rows.
    sortable_by = ("action",)
    autocomplete_fields = ("action",)


@admin.register(ProgressNote)
class ProgressNoteAdmin(ProgressNoteAdminPerformance, ScopedAdmin):
    """Notes are append-only: visible here, never edited or deleted."""

    list_display = ("created_at", "action", "author", "delivery_status_after", "rag_after")
    list_select_related = ("action", "author")
    list_filter = ("delivery_status_after", "rag_after", "is_sample")
    # Five notes an action: a note's words through its stored vector (admin_perf), or its
    # author. An action's title is searched on the action changelist, whose search also finds
    # the words of its notes; matching it here would join every note to its action.
    search_fields = ("text", "=author__username", "=author__last_name")
    search_help_text = (
        "Words in the note, or the author's exact username or surname. To find an action's "
        "notes, search actions, then open the action."
    )
    # Newest first, the only order an index serves over every note; the other columns would
    # sort five million rows.
    sortable_by = ("created_at",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class EvidenceTypeFilter(admin.SimpleListFilter):
    """The types an upload may have, and links: the choices are known, so not read from a
    SELECT DISTINCT over every piece of evidence."""

    title = "content type"
    parameter_name = "content_type"
    LINK = "link"

    def lookups(self, request, model_admin):
        return [(self.LINK, "Link (no file)"), *((t, t) for t in ALLOWED_TYPES)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(content_type="" if value == self.LINK else value)


@admin.register(Evidence)
class EvidenceAdmin(WordSearchAdmin, ScopedAdmin):
    list_display = ("title", "action", "content_type", "size", "added_by", "created_at")
    list_select_related = ("action", "added_by")
    list_filter = (EvidenceTypeFilter, "is_sample")
    # A million pieces: the words of their title and link (a GIN index), or a file's exact
    # SHA-256. An action's title is searched on the action changelist, and the action's page
    # lists its evidence.
    search_fields = ("title", "url", "=sha256")
    word_search_fields = ("title", "url")
    exact_search_fields = ("sha256",)
    search_help_text = (
        "Words in the title or link, or a file's exact SHA-256. To find an action's evidence, "
        "open the action."
    )
    # Newest first, which an index serves; the other columns would sort a million rows.
    sortable_by = ("created_at",)
    autocomplete_fields = ("action",)

    def get_form(self, request: HttpRequest, obj: Evidence | None = None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class EvidenceForm(form):
            def clean(self):
                cleaned = super().clean()
                if obj is None and bool(cleaned.get("file")) == bool(cleaned.get("url")):
                    raise ValidationError("Give either a file or a link, not both.")
                return cleaned

            def _post_clean(self) -> None:
                if obj is None:
                    # Size, type and hash are worked out by the service when it saves.
                    return
                super()._post_clean()

        return EvidenceForm

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
            services.record_save(obj=obj, by=request.user)
            return
        data = form.cleaned_data
        if data.get("file"):
            created = services.evidence_add_file(
                action=data["action"],
                by=request.user,
                upload=data["file"],
                title=data["title"],
            )
        else:
            created = services.evidence_add_link(
                action=data["action"],
                by=request.user,
                url=data["url"],
                title=data["title"],
            )
        obj.pk = created.pk


@admin.register(DueDateChange)
class DueDateChangeAdmin(WordSearchAdmin, ScopedAdmin):
    list_display = ("action", "old_date", "new_date", "status", "requested_by", "decided_by")
    list_select_related = ("action", "requested_by", "decided_by")
    list_filter = ("status",)
    # The words of the reason (a GIN index). An action's title is searched on the action
    # changelist, and the action's page lists its deadline changes.
    search_fields = ("reason",)
    word_search_fields = ("reason",)
    search_help_text = "Words in the reason given. To find an action's deadline changes, open it."
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

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Decided with the actions below (or on the pages), never edited.
        return super().has_change_permission(request, obj) and obj is None

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # The slippage register is kept whole.
        return False

    @admin.action(description="Approve selected deadline changes", permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[DueDateChange]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Refuse selected deadline changes", permissions=["change"])
    def refuse(self, request: HttpRequest, queryset: QuerySet[DueDateChange]) -> None:
        self._decide(request, queryset, approve=False)

    def _decide(self, request: HttpRequest, queryset, *, approve: bool) -> None:
        def decide(change: DueDateChange) -> DueDateChange:
            if not request.user.has_perm("improvement.decide_deadline", change):
                raise ValidationError("you may not decide this request")
            return services.due_date_change_decide(
                change=change,
                by=request.user,
                approve=approve,
                note="" if approve else "Refused in the admin.",
            )

        try:
            decided = services.each_or_none(queryset.select_related("action__team"), decide)
        except services.BulkRefused as exc:
            self.message_user(request, _refusal_message(exc, "decided"), messages.ERROR)
            return
        self.message_user(request, f"Decided {len(decided)} request(s).", messages.SUCCESS)


class MeasureValueInline(ScopedInline):
    model = MeasureValue
    extra = 1
    fields = ("recorded_on", "value", "note", "recorded_by")
    autocomplete_fields = ("recorded_by",)


@admin.register(Measure)
class MeasureAdmin(ScopedAdmin):
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
    list_filter = (("authority", admin.RelatedOnlyFieldListFilter), "unit", "direction")
    search_fields = ("name", "description")
    autocomplete_fields = ("authority", "actions")
    inlines = (MeasureValueInline,)


@admin.register(MeasureValue)
class MeasureValueAdmin(CappedCountAdmin, ScopedAdmin):
    list_display = ("measure", "recorded_on", "value", "recorded_by")
    list_select_related = ("measure__authority", "recorded_by")
    list_filter = ("is_sample",)
    search_fields = ("measure__name",)
    date_hierarchy = "recorded_on"
    autocomplete_fields = ("measure", "recorded_by")


# With AXES_USE_ATTEMPT_EXPIRATION (see improvement/login_limits.py) axes' attempt list shows
# each row's expiration: fetch it with the rows rather than one query per row.
class AccessAttemptWithExpiryAdmin(AxesAccessAttemptAdmin):
    list_select_related = ("expiration",)


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, AccessAttemptWithExpiryAdmin)


@admin.register(PlanSubmission)
class PlanSubmissionAdmin(ScopedAdmin):
    """Read here; recorded from the inspection page (services.plan_submission_record), which
    checks the dates against the inspection and the other stage."""

    list_display = ("inspection", "stage", "submitted_on", "submitted_by", "is_sample")
    list_select_related = ("inspection__authority", "submitted_by")
    list_filter = ("stage", "is_sample")
    search_fields = ("inspection__authority__name", "note")
    date_hierarchy = "submitted_on"
    readonly_fields = (
        "inspection",
        "stage",
        "submitted_on",
        "submitted_by",
        "url",
        "file",
        "size",
        "content_type",
        "sha256",
        "note",
        "is_sample",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
