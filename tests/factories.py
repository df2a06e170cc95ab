"""factory-boy factories: each builds a valid object (tests/test_factories.py proves it)."""

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from improvement import roles
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

factory.Faker._DEFAULT_LOCALE = "en_GB"
TODAY = dt.date(2026, 12, 1)


class AuthorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Authority
        django_get_or_create = ("ons_code",)

    name = factory.Sequence(lambda n: f"Authority {n}")
    ons_code = factory.Sequence(lambda n: f"E{60000000 + n:08d}")
    region = "North West"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    authority = None
    # Tests that make a user without an authority mean a national user; the grant is explicit
    # (see improvement.scope), so the factory grants it rather than relying on the empty field.
    reach = factory.LazyAttribute(
        lambda u: User.Reach.NATIONAL if u.authority is None else User.Reach.AUTHORITY
    )
    password = factory.PostGenerationMethodCall("set_password", "password")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])
        if create:
            self.save()


def _role_hook(default: str):
    def role(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get_or_create(name=extracted or default)[0])
            self.save()

    return factory.PostGeneration(role)


class OwnerFactory(UserFactory):
    role = _role_hook(roles.ACTION_OWNER)


class LeaderFactory(UserFactory):
    role = _role_hook(roles.SENIOR_LEADER)


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"theme-{n}")
    name = factory.Sequence(lambda n: f"Theme {n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    authority = factory.SubFactory(AuthorityFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class InspectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Inspection

    authority = factory.SubFactory(AuthorityFactory)
    kind = Inspection.Kind.ILACS_STANDARD
    start_date = factory.Sequence(lambda n: dt.date(2021, 10, 11) - dt.timedelta(days=n))
    end_date = factory.LazyAttribute(lambda i: i.start_date + dt.timedelta(days=11))
    publication_date = factory.LazyAttribute(lambda i: i.end_date + dt.timedelta(days=42))
    lead_inspectors = factory.LazyFunction(lambda: ["Paula Thomson-Jones"])


class JudgementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Judgement

    inspection = factory.SubFactory(InspectionFactory)
    area = factory.Sequence(lambda n: f"The experiences and progress of children {n}")
    grade = Judgement.Grade.REQUIRES_IMPROVEMENT_TO_BE_GOOD


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Finding

    inspection = factory.SubFactory(InspectionFactory)
    number = factory.Sequence(lambda n: n + 1)
    section = "The experiences and progress of children who need help and protection"
    text = factory.Faker("paragraph")


class ImprovementAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImprovementArea

    inspection = factory.SubFactory(InspectionFactory)
    position = factory.Sequence(lambda n: n + 1)
    text = "The quality and impact of the support provided to care leavers."


class ActionFactory(factory.django.DjangoModelFactory):
    """An action answering one improvement area of its authority (made unless given)."""

    class Meta:
        model = Action
        skip_postgeneration_save = True

    team = None
    # An action's team is of its authority (the database holds it): follow the team if given.
    authority = factory.LazyAttribute(lambda a: a.team.authority if a.team else AuthorityFactory())
    reference = factory.Sequence(lambda n: f"{n // 10 + 1}.{n % 10 + 1}")
    title = factory.Sequence(lambda n: f"Action {n}")
    owner = factory.SubFactory(OwnerFactory)
    start_date = TODAY - dt.timedelta(days=90)
    due_date = TODAY + dt.timedelta(days=60)
    original_due_date = factory.LazyAttribute(lambda a: a.due_date)
    success_measure = "90% of care leavers have an up-to-date pathway plan."

    @factory.post_generation
    def improvement_areas(self, create, extracted, **kwargs):
        if create:
            self.improvement_areas.set(
                extracted or [ImprovementAreaFactory(inspection__authority=self.authority)]
            )


_bulk_serial = itertools.count(1)


def bulk_actions(
    n: int,
    *,
    area: ImprovementArea | Sequence[ImprovementArea],
    owner: User,
    **fields: Any,
) -> list[Action]:
    """n actions in two queries (the rows, then their improvement-area links), for query counts.

    The authority is the first area's; given several areas, the actions answer them in turn.
    Titles and references are unique across calls. `fields` override the defaults; a callable
    is called with the row's index (0 to n-1) so that rows can differ (due dates, RAG...).
    original_due_date follows due_date unless given.
    """
    areas = [area] if isinstance(area, ImprovementArea) else list(area)
    fields = {
        "authority": areas[0].inspection.authority,
        "owner": owner,
        "start_date": TODAY - dt.timedelta(days=90),
        "due_date": TODAY + dt.timedelta(days=30),
        "success_measure": "Children say things are better.",
        **fields,
    }
    fields.setdefault("original_due_date", fields["due_date"])

    def build(i: int) -> Action:
        serial = next(_bulk_serial)
        values = {"title": f"Bulk action {serial}", "reference": f"B.{serial}"}
        values.update((k, v(i) if callable(v) else v) for k, v in fields.items())
        return Action(**values)

    rows = Action.objects.bulk_create(build(i) for i in range(n))
    through = Action.improvement_areas.through
    through.objects.bulk_create(
        through(action_id=a.pk, improvementarea_id=areas[i % len(areas)].pk)
        for i, a in enumerate(rows)
    )
    return rows


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    action = factory.SubFactory(ActionFactory)
    title = "Audit of pathway plans"
    due_date = TODAY + dt.timedelta(days=30)


class ProgressNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressNote

    action = factory.SubFactory(ActionFactory)
    authority = factory.LazyAttribute(lambda n: n.action.authority)
    author = factory.LazyAttribute(lambda n: n.action.owner)
    text = "Audit of 40 plans completed."
    created_at = factory.LazyFunction(timezone.now)


class EvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evidence

    action = factory.SubFactory(ActionFactory)
    authority = factory.LazyAttribute(lambda e: e.action.authority)
    title = "Audit summary"
    url = "https://example.org/audit"
    added_by = factory.LazyAttribute(lambda e: e.action.owner)


class DueDateChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DueDateChange

    action = factory.SubFactory(ActionFactory)
    authority = factory.LazyAttribute(lambda c: c.action.authority)
    old_date = factory.LazyAttribute(lambda c: c.action.due_date)
    new_date = factory.LazyAttribute(lambda c: c.action.due_date + dt.timedelta(days=30))
    reason = "Recruitment took longer than planned."
    requested_by = factory.LazyAttribute(lambda c: c.action.owner)


class MeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measure

    authority = factory.SubFactory(AuthorityFactory)
    name = factory.Sequence(lambda n: f"Care leavers in suitable accommodation {n}")
    direction = Measure.Direction.HIGHER_IS_BETTER
    baseline_value = Decimal("78")
    baseline_date = TODAY - dt.timedelta(days=200)
    target_value = Decimal("92")
    target_date = TODAY + dt.timedelta(days=200)


class MeasureValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeasureValue

    measure = factory.SubFactory(MeasureFactory)
    recorded_on = factory.Sequence(lambda n: TODAY - dt.timedelta(days=n))
    value = Decimal("83")
    recorded_by = factory.SubFactory(UserFactory)
