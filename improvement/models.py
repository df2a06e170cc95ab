"""The improvement domain: from an Ofsted inspection to actions and children's outcomes.

Rules the database can hold live here as constraints; rules that cross rows live in services.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords


def _choices_check(
    field: str, choices: type[models.TextChoices], name: str
) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Authority(TimeStampedModel):
    """An English local authority with children's services responsibilities."""

    name = models.CharField(max_length=120, unique=True)
    ons_code = models.CharField("ONS code", max_length=9, unique=True)
    la_code = models.CharField("DfE LA code", max_length=3, blank=True)
    region = models.CharField(max_length=60, blank=True)
    authority_type = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "authorities"
        constraints = [
            models.CheckConstraint(
                condition=Q(ons_code__regex=r"^E[0-9]{8}$"), name="authority_ons_code_format"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("improvement:dashboard-authority", kwargs={"pk": self.pk})


class UserReach(models.TextChoices):
    AUTHORITY = "authority", "Their own authority"
    REGION = "region", "Every authority in their region"
    NATIONAL = "national", "Every authority"


class User(AbstractUser):
    """A person using the tracker; roles are groups, reach is an explicit grant (see scope.py)."""

    Reach = UserReach

    job_title = models.CharField(max_length=120, blank=True)
    authority = models.ForeignKey(
        Authority,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text="The authority the person works for; with authority reach, all they see.",
    )
    reach = models.CharField(
        max_length=20,
        choices=Reach,
        default=Reach.AUTHORITY,
        help_text="Regional and national reach are granted, never implied by a missing authority.",
    )
    region = models.CharField(
        max_length=60,
        blank=True,
        help_text="For regional reach: the region, as authorities name it.",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            _choices_check("reach", UserReach, "user_reach_valid"),
            models.CheckConstraint(
                condition=~Q(reach="region") | ~Q(region=""), name="user_regional_reach_has_region"
            ),
        ]

    def __str__(self) -> str:
        return self.name_from(self.first_name, self.last_name, self.username)

    @staticmethod
    def name_from(first_name: str, last_name: str, username: str) -> str:
        """How a person is named everywhere (full name, else username), from the columns alone:
        lists of thousands of owners read these as values, not as users."""
        return f"{first_name} {last_name}".strip() or username


class Theme(TimeStampedModel):
    """A small controlled taxonomy so that what recurs across inspections is visible."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamKind(models.TextChoices):
    COUNCIL = "council", "Council team"
    PARTNER = "partner", "Partner agency"


class Team(TimeStampedModel):
    """A council team or a partner agency that owns actions."""

    Kind = TeamKind

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.COUNCIL)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
        help_text="The team lead may update every action of the team.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["authority__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "name"], name="team_unique_name"),
            _choices_check("kind", TeamKind, "team_kind_valid"),
            # The target of action(team, authority) -> team(id, authority) on PostgreSQL, so
            # that no route can give an action another authority's team.
            models.UniqueConstraint(fields=["id", "authority"], name="team_unique_id_authority"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if (
            self.lead_id is not None
            and self.authority_id is not None
            and self.lead.authority_id not in (None, self.authority_id)
        ):
            raise ValidationError({"lead": "The team lead must work for the team's authority."})


class InspectionKind(models.TextChoices):
    ILACS_STANDARD = "ilacs_standard", "ILACS standard inspection"
    ILACS_SHORT = "ilacs_short", "ILACS short inspection"
    FOCUSED_VISIT = "focused_visit", "ILACS focused visit"
    MONITORING_VISIT = "monitoring_visit", "Monitoring visit"
    JTAI = "jtai", "Joint targeted area inspection"
    SEND_AREA = "send_area", "Area SEND inspection"
    SIF = "sif", "Single inspection framework (SIF)"
    SIF_REINSPECTION = "sif_reinspection", "SIF re-inspection"
    SAFEGUARDING_LAC = "safeguarding_lac", "Safeguarding and looked after children (to 2013)"
    SELF_EVALUATION = "self_evaluation", "Self-evaluation"
    INTERNAL_AUDIT = "internal_audit", "Internal audit"
    PEER_REVIEW = "peer_review", "Peer review"
    LAC_2013 = "lac_2013", "Inspection of services for looked after children (2013)"
    LSCB_REVIEW = "lscb_review", "Review of the Local Safeguarding Children Board"


class Inspection(TimeStampedModel):
    """An Ofsted inspection or visit of one authority, or the council's own review."""

    Kind = InspectionKind

    OFSTED_KINDS = frozenset(
        {
            Kind.ILACS_STANDARD,
            Kind.ILACS_SHORT,
            Kind.FOCUSED_VISIT,
            Kind.MONITORING_VISIT,
            Kind.JTAI,
            Kind.SEND_AREA,
            Kind.SIF,
            Kind.SIF_REINSPECTION,
            Kind.SAFEGUARDING_LAC,
            Kind.LAC_2013,
            Kind.LSCB_REVIEW,
        }
    )

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="inspections")
    kind = models.CharField(max_length=30, choices=Kind)
    title = models.CharField(max_length=250, blank=True)
    start_date = models.DateField("fieldwork start", null=True, blank=True)
    end_date = models.DateField("fieldwork end", null=True, blank=True)
    publication_date = models.DateField(null=True, blank=True)
    lead_inspectors = models.JSONField(default=list, blank=True)
    report_url = models.URLField(max_length=500, blank=True)
    summary = models.TextField(blank=True)
    outcome = models.TextField(
        blank=True, help_text="An outcome sentence where the report gives no graded judgement."
    )
    source_sha256 = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the imported report, to refuse re-imports."
    )
    # Fieldwork split over two visits ("30 September to 11 October 2024 and 13 to 16 January
    # 2025") keeps each range as [start, end] ISO dates; start_date/end_date span them all.
    fieldwork_ranges = models.JSONField(default=list, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["authority__name", "-start_date", "-pk"]
        indexes = [models.Index(fields=["authority", "start_date"], name="inspection_auth_start")]
        constraints = [
            _choices_check("kind", InspectionKind, "inspection_kind_valid"),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="inspection_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(publication_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(publication_date__gte=F("start_date")),
                name="inspection_published_after_start",
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=False) | Q(publication_date__isnull=False),
                name="inspection_has_a_date",
            ),
            models.UniqueConstraint(
                fields=["source_sha256"],
                condition=~Q(source_sha256=""),
                name="inspection_unique_source",
            ),
            models.UniqueConstraint(
                fields=["authority", "kind", "start_date"],
                condition=Q(start_date__isnull=False),
                name="inspection_unique_per_authority_kind_start",
            ),
        ]

    def __str__(self) -> str:
        when = self.start_date or self.publication_date
        # An admin form shown again with errors may hold an inspection without these yet.
        authority = self.authority if self.authority_id else "New"
        label = f"{authority} {self.get_kind_display()}"
        return f"{label} ({when:%B %Y})" if when else label

    def get_absolute_url(self) -> str:
        return reverse("improvement:inspection-detail", kwargs={"pk": self.pk})

    @property
    def is_ofsted(self) -> bool:
        return self.kind in self.OFSTED_KINDS


class JudgementGrade(models.TextChoices):
    OUTSTANDING = "outstanding", "Outstanding"
    GOOD = "good", "Good"
    REQUIRES_IMPROVEMENT_TO_BE_GOOD = (
        "requires_improvement_to_be_good",
        "Requires improvement to be good",
    )
    REQUIRES_IMPROVEMENT = "requires_improvement", "Requires improvement"
    ADEQUATE = "adequate", "Adequate"
    INADEQUATE = "inadequate", "Inadequate"
    NOT_JUDGED = "not_judged", "Not judged"


class Judgement(TimeStampedModel):
    """A graded judgement with Ofsted's exact wording for its era."""

    Grade = JudgementGrade

    # Lower is better; the two "requires improvement" wordings mean the same grade.
    GRADE_RANK = {
        Grade.OUTSTANDING: 1,
        Grade.GOOD: 2,
        Grade.REQUIRES_IMPROVEMENT_TO_BE_GOOD: 3,
        Grade.REQUIRES_IMPROVEMENT: 3,
        Grade.ADEQUATE: 3,
        Grade.INADEQUATE: 4,
    }
    # "Not judged" (e.g. no adoptions to judge) has no rank: it is neither good nor bad.

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="judgements")
    area = models.CharField(max_length=250)
    grade = models.CharField(max_length=40, choices=Grade)
    is_overall = models.BooleanField("overall effectiveness", default=False)
    position = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["inspection", "is_overall", "position", "pk"]
        constraints = [
            _choices_check("grade", JudgementGrade, "judgement_grade_valid"),
            models.UniqueConstraint(fields=["inspection", "area"], name="judgement_unique_area"),
            models.UniqueConstraint(
                fields=["inspection"],
                condition=Q(is_overall=True),
                name="judgement_one_overall_per_inspection",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area}: {self.get_grade_display()}"

    @property
    def rank(self) -> int | None:
        return self.GRADE_RANK.get(self.grade)


class Finding(TimeStampedModel):
    """A numbered paragraph of a report, verbatim, with the section it sits in."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="findings")
    number = models.PositiveSmallIntegerField()
    section = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    themes = models.ManyToManyField(Theme, blank=True, related_name="findings")
    history = HistoricalRecords()

    class Meta:
        ordering = ["inspection", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "number"], name="finding_unique_paragraph_number"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="finding_number_positive"),
            models.CheckConstraint(condition=~Q(text=""), name="finding_text_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Paragraph {self.number}"


class ImprovementArea(TimeStampedModel):
    """One 'what needs to improve' item or area for priority action, verbatim."""

    inspection = models.ForeignKey(
        Inspection, on_delete=models.PROTECT, related_name="improvement_areas"
    )
    position = models.PositiveSmallIntegerField()
    text = models.TextField()
    framework_tag = models.CharField(
        "National Framework tag", max_length=120, blank=True, help_text="e.g. Outcome 4"
    )
    is_priority_action = models.BooleanField("area for priority action", default=False)
    responsible_body = models.CharField(max_length=200, blank=True)
    # Each organisation named in the area SEND table's "Responsible body" cell, as printed.
    responsible_bodies = models.JSONField(default=list, blank=True)
    supporting_findings = models.ManyToManyField(
        Finding, blank=True, related_name="improvement_areas"
    )
    themes = models.ManyToManyField(Theme, blank=True, related_name="improvement_areas")
    history = HistoricalRecords()

    class Meta:
        ordering = ["inspection", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "position"], name="improvement_area_unique_position"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="improvement_area_text_not_empty"),
            models.CheckConstraint(
                condition=Q(is_priority_action=True) | Q(responsible_body=""),
                name="improvement_area_body_only_for_priority",
            ),
        ]

    def __str__(self) -> str:
        return self.text if len(self.text) <= 80 else f"{self.text[:77]}..."

    def get_absolute_url(self) -> str:
        # ?area= opens the page of the inspection's areas that holds this one.
        return f"{self.inspection.get_absolute_url()}?area={self.pk}#area-{self.pk}"


class ActionPriority(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class ActionRag(models.TextChoices):
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"
    BLUE = "blue", "Blue (closed)"


class ActionImpactStatus(models.TextChoices):
    NOT_ASSESSED = "not_assessed", "Not yet assessed"
    EVIDENCED = "evidenced", "Impact evidenced"
    CLOSED_WITHOUT_IMPACT = "closed_without_impact", "Closed without evidenced impact"


class ActionDeliveryStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    DELIVERED = "delivered", "Delivered"


class Action(TimeStampedModel):
    """What the council does about one or more improvement areas, and whether it worked."""

    DeliveryStatus = ActionDeliveryStatus

    ImpactStatus = ActionImpactStatus

    Rag = ActionRag

    Priority = ActionPriority

    CLOSED_IMPACT = (ImpactStatus.EVIDENCED, ImpactStatus.CLOSED_WITHOUT_IMPACT)

    # Denormalised from the improvement areas so that an authority's plan is one indexed filter.
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="actions")
    reference = models.CharField(max_length=20, blank=True, help_text="e.g. 1.2")
    title = models.CharField(max_length=250)
    description = models.TextField(blank=True)
    improvement_areas = models.ManyToManyField(ImprovementArea, related_name="actions")
    themes = models.ManyToManyField(Theme, blank=True, related_name="actions")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_actions"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="actions"
    )
    start_date = models.DateField()
    original_due_date = models.DateField()
    due_date = models.DateField()
    delivery_status = models.CharField(
        max_length=20, choices=DeliveryStatus, default=DeliveryStatus.NOT_STARTED
    )
    impact_status = models.CharField(
        max_length=30, choices=ImpactStatus, default=ImpactStatus.NOT_ASSESSED
    )
    rag = models.CharField("RAG", max_length=10, choices=Rag, default=Rag.GREEN)
    priority = models.CharField(max_length=10, choices=Priority, default=Priority.MEDIUM)
    success_measure = models.TextField(
        help_text="How children's experience will be better, and how that will be known."
    )
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signed_off_actions",
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    closure_note = models.TextField(blank=True)
    is_sample = models.BooleanField(default=False, help_text="Demo data, not a real record.")
    # Maintained by services so that stale and slipped filters are plain indexed lookups.
    last_note_at = models.DateTimeField(null=True, blank=True)
    due_date_change_count = models.PositiveSmallIntegerField(default=0)
    # Set when a senior leader sends a delivered action back; cleared when the owner next acts.
    sent_back_at = models.DateTimeField(null=True, blank=True)
    # Optimistic locking: every write through the services bumps it.
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["due_date", "pk"]
        indexes = [
            models.Index(fields=["authority", "delivery_status"], name="action_auth_status"),
            models.Index(fields=["authority", "due_date"], name="action_auth_due"),
            models.Index(fields=["owner", "delivery_status"], name="action_owner_status"),
            models.Index(fields=["team", "delivery_status"], name="action_team_status"),
            models.Index(fields=["authority", "rag"], name="action_auth_rag"),
            models.Index(fields=["authority", "last_note_at"], name="action_auth_last_note"),
            models.Index(
                fields=["authority", "due_date_change_count"], name="action_auth_slippage"
            ),
            # The latest change to an authority's plan: whether its cached dashboard figures
            # (selectors.dashboard.dashboard_figures) still hold.
            models.Index(fields=["authority", "-updated_at"], name="action_auth_updated"),
        ]
        constraints = [
            _choices_check("delivery_status", ActionDeliveryStatus, "action_delivery_status_valid"),
            _choices_check("impact_status", ActionImpactStatus, "action_impact_status_valid"),
            _choices_check("rag", ActionRag, "action_rag_valid"),
            _choices_check("priority", ActionPriority, "action_priority_valid"),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("start_date")), name="action_due_after_start"
            ),
            models.CheckConstraint(
                condition=Q(original_due_date__gte=F("start_date")),
                name="action_original_due_after_start",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="action_title_not_empty"),
            models.CheckConstraint(
                condition=~Q(success_measure=""), name="action_success_measure_not_empty"
            ),
            # Impact can only be signed off on a delivered action, by someone, at a time.
            models.CheckConstraint(
                condition=Q(impact_status="not_assessed")
                | Q(
                    delivery_status="delivered",
                    signed_off_by__isnull=False,
                    signed_off_at__isnull=False,
                ),
                name="action_sign_off_needs_delivery_and_signatory",
            ),
            models.CheckConstraint(
                condition=~Q(impact_status="not_assessed")
                | Q(signed_off_by__isnull=True, signed_off_at__isnull=True),
                name="action_no_signatory_before_sign_off",
            ),
            # Blue means closed; nothing else may be blue and nothing closed may be otherwise.
            models.CheckConstraint(
                condition=Q(rag="blue", impact_status__in=["evidenced", "closed_without_impact"])
                | (~Q(rag="blue") & Q(impact_status="not_assessed")),
                name="action_blue_iff_closed",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="action_version_positive"),
            # Separation of duties, whatever the entry route: nobody signs off their own action.
            models.CheckConstraint(
                condition=Q(signed_off_by__isnull=True) | ~Q(signed_off_by=F("owner")),
                name="action_not_signed_off_by_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}".strip()

    def get_absolute_url(self) -> str:
        return reverse("improvement:action-detail", kwargs={"pk": self.pk})

    def clean(self) -> None:
        """Links within one authority, and dates and signatory as the constraints say."""
        super().clean()
        errors: dict[str, str] = {}
        if self.authority_id is not None:
            if self.team_id is not None and self.team.authority_id != self.authority_id:
                errors["team"] = "The team must belong to the action's authority."
            # A user of no authority (national or regional staff) may own any action.
            if self.owner_id is not None and self.owner.authority_id not in (
                None,
                self.authority_id,
            ):
                errors["owner"] = "The owner must work for the action's authority."
        if self.start_date and self.due_date and self.due_date < self.start_date:
            errors["due_date"] = "The due date must be on or after the start date."
        if self.signed_off_by_id is not None and self.signed_off_by_id == self.owner_id:
            errors["signed_off_by"] = "Someone other than the owner must sign the action off."
        if errors:
            raise ValidationError(errors)

    @property
    def is_closed(self) -> bool:
        return self.impact_status in self.CLOSED_IMPACT

    @property
    def days_slipped(self) -> int:
        return (self.due_date - self.original_due_date).days


class Milestone(TimeStampedModel):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=250)
    due_date = models.DateField()
    completed_on = models.DateField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["action", "position", "due_date", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="milestone_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_complete(self) -> bool:
        return self.completed_on is not None


def _fill_authority_from_action(record) -> None:
    """Whoever writes a note, evidence or deadline change, it belongs to its action's authority
    (the database refuses any other)."""
    if record.authority_id is None and record.action_id is not None:
        record.authority_id = record.action.authority_id


class ActionRecordQuerySet(models.QuerySet):
    """bulk_create skips save(): it fills each record's authority from its action the same way,
    asking the database once for the actions it was not given."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        unknown = {
            record.action_id
            for record in objs
            if record.authority_id is None
            and record.action_id is not None
            and not type(record).action.is_cached(record)
        }
        authorities = dict(
            Action.objects.filter(pk__in=unknown).values_list("pk", "authority_id")
            if unknown
            else ()
        )
        for record in objs:
            if record.authority_id is None and record.action_id in authorities:
                record.authority_id = authorities[record.action_id]
            _fill_authority_from_action(record)
        return super().bulk_create(objs, *args, **kwargs)


ActionRecordManager = models.Manager.from_queryset(ActionRecordQuerySet)


class ProgressNote(models.Model):
    """Append-only: what happened, by whom, and the status or RAG change it made."""

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="notes")
    # The action's authority, stored so that an authority's notes are read newest first from an
    # index of their own rather than by joining millions of notes to their actions (held to the
    # action's by the database, migration 0016, as a deadline change's is by 0015).
    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="progress_notes"
    )
    created_at = models.DateTimeField()
    text = models.TextField()
    delivery_status_before = models.CharField(
        max_length=20, choices=Action.DeliveryStatus, blank=True
    )
    delivery_status_after = models.CharField(
        max_length=20, choices=Action.DeliveryStatus, blank=True
    )
    rag_before = models.CharField(max_length=10, choices=Action.Rag, blank=True)
    rag_after = models.CharField(max_length=10, choices=Action.Rag, blank=True)
    is_sample = models.BooleanField(default=False, help_text="Demo data, not a real record.")

    objects = ActionRecordManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["action", "-created_at"], name="note_action_created"),
            # Scope, and the admin's newest first for an authority's administrator.
            models.Index(fields=["authority", "-created_at", "-id"], name="note_auth_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="note_text_not_empty"),
            models.CheckConstraint(
                condition=(Q(delivery_status_before="") & Q(delivery_status_after=""))
                | (~Q(delivery_status_before="") & ~Q(delivery_status_after="")),
                name="note_status_change_has_both_sides",
            ),
            models.CheckConstraint(
                condition=(Q(rag_before="") & Q(rag_after=""))
                | (~Q(rag_before="") & ~Q(rag_after="")),
                name="note_rag_change_has_both_sides",
            ),
        ]

    def __str__(self) -> str:
        return f"Note by {self.author} on {self.created_at:%d %b %Y}"

    def save(self, *args, **kwargs) -> None:
        _fill_authority_from_action(self)
        super().save(*args, **kwargs)

    @property
    def changed_status(self) -> bool:
        return bool(self.delivery_status_after)

    @property
    def changed_rag(self) -> bool:
        return bool(self.rag_after)


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    return f"evidence/{instance.action_id}/{instance.sha256[:16]}/{filename}"


class Evidence(TimeStampedModel):
    """A file or a link that shows what was done or what changed for children."""

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="evidence")
    # The action's authority, as a progress note stores it (migration 0016).
    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    title = models.CharField(max_length=250)
    file = models.FileField(upload_to=evidence_upload_to, blank=True, max_length=300)
    url = models.URLField("link", max_length=500, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=120, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evidence_added"
    )
    is_sample = models.BooleanField(default=False, help_text="Demo data, not a real record.")
    history = HistoricalRecords()

    objects = ActionRecordManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "evidence"
        indexes = [
            models.Index(fields=["authority", "-created_at", "-id"], name="evidence_auth_created")
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    ~Q(file="")
                    & Q(url="")
                    & Q(size__isnull=False)
                    & ~Q(content_type="")
                    & Q(sha256__regex=r"^[0-9a-f]{64}$")
                )
                | (Q(file="") & ~Q(url="")),
                name="evidence_file_xor_link",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="evidence_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        _fill_authority_from_action(self)
        super().save(*args, **kwargs)

    @property
    def is_link(self) -> bool:
        return not self.file


class DueDateChangeStatus(models.TextChoices):
    PENDING = "pending", "Awaiting decision"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"


class DueDateChange(TimeStampedModel):
    """The slippage register: every request to move a deadline and what was decided."""

    Status = DueDateChangeStatus

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="due_date_changes")
    # The action's authority, stored so that an authority's register is read from its own index
    # (newest decisions first) rather than by joining every change in the country to its action.
    # The database holds it to the action's: a composite foreign key on PostgreSQL, a trigger on
    # SQLite (migration 0015).
    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    old_date = models.DateField()
    new_date = models.DateField()
    reason = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="due_date_requests"
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="due_date_decisions",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    history = HistoricalRecords()

    objects = ActionRecordManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "due-date change"
        indexes = [
            # Scope, and the admin's newest first for an authority's administrator.
            models.Index(fields=["authority", "-created_at", "-id"], name="ddc_auth_created"),
            # The register's recent decisions.
            models.Index(
                fields=["authority", "-decided_at", "-id"],
                condition=~Q(status="pending"),
                name="ddc_auth_decided",
            ),
        ]
        constraints = [
            _choices_check("status", DueDateChangeStatus, "due_date_change_status_valid"),
            models.CheckConstraint(
                condition=~Q(new_date=F("old_date")), name="due_date_change_moves_the_date"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="due_date_change_has_reason"),
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True, decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="due_date_change_decision_recorded",
            ),
            models.UniqueConstraint(
                fields=["action"],
                condition=Q(status="pending"),
                name="due_date_change_one_pending_per_action",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="due_date_change_not_decided_by_requester",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action}: {self.old_date} to {self.new_date} ({self.get_status_display()})"

    def save(self, *args, **kwargs) -> None:
        _fill_authority_from_action(self)
        super().save(*args, **kwargs)


class MeasureUnit(models.TextChoices):
    PERCENT = "percent", "Per cent"
    COUNT = "count", "Number"
    DAYS = "days", "Days"
    RATE = "rate", "Rate per 10,000 children"


class MeasureDirection(models.TextChoices):
    HIGHER_IS_BETTER = "up", "Higher is better"
    LOWER_IS_BETTER = "down", "Lower is better"


class Measure(TimeStampedModel):
    """An outcome for children, with a baseline, a target and dated values."""

    Direction = MeasureDirection

    Unit = MeasureUnit

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="measures")
    name = models.CharField(max_length=250)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=20, choices=Unit, default=Unit.PERCENT)
    direction = models.CharField(max_length=4, choices=Direction)
    baseline_value = models.DecimalField(max_digits=12, decimal_places=2)
    baseline_date = models.DateField()
    target_value = models.DecimalField(max_digits=12, decimal_places=2)
    target_date = models.DateField()
    actions = models.ManyToManyField(Action, blank=True, related_name="measures")
    history = HistoricalRecords()

    class Meta:
        ordering = ["authority__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "name"], name="measure_unique_name"),
            _choices_check("direction", MeasureDirection, "measure_direction_valid"),
            _choices_check("unit", MeasureUnit, "measure_unit_valid"),
            models.CheckConstraint(
                condition=Q(target_date__gt=F("baseline_date")),
                name="measure_target_after_baseline",
            ),
            models.CheckConstraint(
                condition=Q(direction="up", target_value__gt=F("baseline_value"))
                | Q(direction="down", target_value__lt=F("baseline_value")),
                name="measure_target_in_direction",
            ),
            models.CheckConstraint(
                condition=~Q(unit="percent")
                | Q(
                    baseline_value__gte=0,
                    baseline_value__lte=100,
                    target_value__gte=0,
                    target_value__lte=100,
                ),
                name="measure_percent_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if (
            self.pk is not None
            and self.unit == MeasureUnit.PERCENT
            and self.values.filter(Q(value__lt=0) | Q(value__gt=100)).exists()
        ):
            raise ValidationError(
                {"unit": "Some recorded values are outside 0 to 100, so this is not a percentage."}
            )

    def is_on_target(self, value) -> bool:
        return Measure.value_on_target(value, direction=self.direction, target=self.target_value)

    @staticmethod
    def value_on_target(value, *, direction: str, target) -> bool:
        """The rule behind is_on_target, for rows read as values (hundreds in a board pack)."""
        if direction == Measure.Direction.HIGHER_IS_BETTER:
            return value >= target
        return value <= target

    def is_improving(self, value) -> bool:
        return Measure.value_improving(
            value, direction=self.direction, baseline=self.baseline_value
        )

    @staticmethod
    def value_improving(value, *, direction: str, baseline) -> bool:
        """The rule behind is_improving, for rows read as values."""
        if direction == Measure.Direction.HIGHER_IS_BETTER:
            return value > baseline
        return value < baseline


class MeasureValue(TimeStampedModel):
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="values")
    recorded_on = models.DateField()
    value = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="measure_values"
    )
    is_sample = models.BooleanField(default=False, help_text="Demo data, not a real record.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["measure", "-recorded_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "recorded_on"], name="measure_value_one_per_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure}: {self.value} on {self.recorded_on}"

    def clean(self) -> None:
        super().clean()
        if (
            self.measure_id is not None
            and self.value is not None
            and self.measure.unit == MeasureUnit.PERCENT
            and not (0 <= self.value <= 100)
        ):
            raise ValidationError({"value": "A percentage must be between 0 and 100."})


class PlanStage(models.TextChoices):
    DRAFT = "draft", "Draft action plan"
    FINAL = "final", "Final action plan"


def plan_upload_to(instance: PlanSubmission, filename: str) -> str:
    return f"plans/{instance.inspection_id}/{instance.stage}/{instance.sha256[:16]}/{filename}"


class PlanSubmission(TimeStampedModel):
    """The post-inspection action plan (draft or final) as sent: this is what stops the clock."""

    Stage = PlanStage

    inspection = models.ForeignKey(
        Inspection, on_delete=models.PROTECT, related_name="plan_submissions"
    )
    stage = models.CharField(max_length=10, choices=Stage)
    submitted_on = models.DateField(help_text="The day the plan was sent to Ofsted.")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="plan_submissions",
        help_text="Who recorded the submission.",
    )
    url = models.URLField("link to the plan", max_length=500, blank=True)
    file = models.FileField(upload_to=plan_upload_to, blank=True, max_length=300)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=120, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    note = models.TextField(blank=True)
    is_sample = models.BooleanField(default=False, help_text="Demo data, not a real record.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["inspection", "submitted_on", "pk"]
        constraints = [
            _choices_check("stage", PlanStage, "plan_submission_stage_valid"),
            # One draft and one final per inspection: a corrected date is an edit, with history.
            models.UniqueConstraint(
                fields=["inspection", "stage"], name="plan_submission_one_per_stage"
            ),
            models.CheckConstraint(
                condition=Q(file="") | (Q(url="") & Q(sha256__regex=r"^[0-9a-f]{64}$")),
                name="plan_submission_file_or_link_hashed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} for {self.inspection}, sent {self.submitted_on}"


class BoardPack(models.Model):
    """A frozen board pack: what the improvement board was shown, exactly, for ever.

    Only frozen packs are stored (a draft is rendered live), so the table is insert-only: the
    service never updates a row and a database trigger refuses any UPDATE whatever the route.
    Later packs compare against `content` to say what changed since.
    """

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="board_packs")
    board_date = models.DateField()
    frozen_at = models.DateTimeField()
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="board_packs_frozen"
    )
    content = models.JSONField()
    html = models.TextField()
    sha256 = models.CharField("SHA-256", max_length=64)

    class Meta:
        ordering = ["authority__name", "-board_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "board_date"], name="board_pack_one_per_meeting"
            ),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="board_pack_sha256_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.authority} board pack, {self.board_date:%d %B %Y}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("A frozen board pack never changes.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("improvement:pack-detail", kwargs={"pk": self.pk})


class PlanImportStatus(models.TextChoices):
    PREVIEWED = "previewed", "Previewed, not imported"
    IMPORTED = "imported", "Imported"


class PlanImport(models.Model):
    """One upload of an existing action plan: its rows as read, their errors, and the outcome."""

    Status = PlanImportStatus

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="plan_imports")
    inspection = models.ForeignKey(
        Inspection, on_delete=models.PROTECT, related_name="plan_imports"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plan_imports"
    )
    uploaded_at = models.DateTimeField()
    filename = models.CharField(max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    rows = models.JSONField(default=list, help_text="Each row as read, with its errors.")
    status = models.CharField(max_length=20, choices=Status, default=Status.PREVIEWED)
    imported_at = models.DateTimeField(null=True, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            _choices_check("status", PlanImportStatus, "plan_import_status_valid"),
            # The same file imported twice into one plan creates nothing new.
            models.UniqueConstraint(
                fields=["inspection", "sha256"],
                condition=Q(status="imported"),
                name="plan_import_once_per_file",
            ),
            models.CheckConstraint(
                condition=Q(status="previewed", imported_at__isnull=True)
                | Q(status="imported", imported_at__isnull=False),
                name="plan_import_outcome_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


class BoardMeeting(TimeStampedModel):
    """A meeting of the improvement board; the update round before it asks owners for updates.

    The round opens on `round_opens_on` and asks every owner of an open action for a progress note
    by `updates_due_on` (by default 10 working days before the meeting: see services/rounds.py).
    """

    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="board_meetings"
    )
    meets_on = models.DateField("meeting date")
    updates_due_on = models.DateField("updates due by")
    round_opens_on = models.DateField("round opens on")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="board_meetings_set",
    )
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["authority__name", "meets_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "meets_on"], name="board_meeting_one_per_day"
            ),
            models.CheckConstraint(
                condition=Q(updates_due_on__lte=F("meets_on")),
                name="board_meeting_updates_due_before_meeting",
            ),
            models.CheckConstraint(
                condition=Q(round_opens_on__lte=F("updates_due_on")),
                name="board_meeting_round_opens_before_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.authority} improvement board, {self.meets_on:%-d %B %Y}"

    def get_absolute_url(self) -> str:
        return reverse("improvement:board-meeting", kwargs={"pk": self.pk})


class SentNotificationKind(models.TextChoices):
    OWNER_DAILY = "owner_daily", "Owner's daily reminder"
    LEADER_WEEKLY = "leader_weekly", "Senior leader's weekly exception digest"


class SentNotification(models.Model):
    """What the reminder run has sent: one row per recipient, kind and day, claimed as it sends.

    The unique constraint is what makes the run idempotent: a second run (or a run killed half
    way and started again) cannot claim a row that is already there.
    """

    Kind = SentNotificationKind

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_notifications"
    )
    kind = models.CharField(max_length=30, choices=Kind)
    # The day the email covers (for the weekly digest, the Monday of its week).
    day = models.DateField()
    sent_at = models.DateTimeField()
    subject = models.CharField(max_length=250, blank=True)
    item_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "recipient_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "day"], name="sent_notification_once_per_day"
            ),
            _choices_check("kind", SentNotificationKind, "sent_notification_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} for {self.day}"


class EmailPreference(models.Model):
    """Which emails a person has switched off; no row means they get them all.

    Overdue reminders are not here: owners cannot switch them off.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preference"
    )
    round_requests = models.BooleanField("update requests for the board", default=True)
    due_soon = models.BooleanField("actions due within 14 days", default=True)
    no_update = models.BooleanField("actions with no update for 30 days", default=True)
    weekly_digest = models.BooleanField("weekly exception digest (senior leaders)", default=True)
    decisions = models.BooleanField(
        "decisions about your actions, and requests awaiting your decision", default=True
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    SWITCHABLE = ("round_requests", "due_soon", "no_update", "weekly_digest", "decisions")

    def __str__(self) -> str:
        return f"Email preferences of {self.user}"
