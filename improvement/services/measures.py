"""Writes for measures of children's outcomes and their dated values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from improvement.models import (
    Action,
    Authority,
    Measure,
    MeasureValue,
    User,
)

# The model stores 12 digits with 2 decimal places.
MAX_VALUE = Decimal("10000000000")


@transaction.atomic
def measure_create(
    *,
    authority: Authority,
    name: str,
    direction: str,
    baseline_value: Decimal,
    baseline_date: dt.date,
    target_value: Decimal,
    target_date: dt.date,
    unit: str = Measure.Unit.PERCENT,
    description: str = "",
    actions: Iterable[Action] = (),
) -> Measure:
    actions = list(actions)
    if any(a.authority_id != authority.pk for a in actions):
        raise ValidationError({"actions": "Linked actions must belong to the same authority."})
    measure = Measure(
        authority=authority,
        name=name,
        direction=direction,
        unit=unit,
        baseline_value=baseline_value,
        baseline_date=baseline_date,
        target_value=target_value,
        target_date=target_date,
        description=description,
    )
    measure.full_clean()
    measure.save()
    measure.actions.set(actions)
    return measure


@transaction.atomic
def measure_record_value(
    *,
    measure: Measure,
    recorded_on: dt.date,
    value: Decimal,
    by: User,
    note: str = "",
    is_sample: bool = False,
    today: dt.date | None = None,
) -> MeasureValue:
    """Record one dated value of a measure, within its unit's bounds, one per date."""
    errors = {}
    if value is None:
        errors["value"] = "Enter the value."
    elif measure.unit == Measure.Unit.PERCENT and not (0 <= value <= 100):
        errors["value"] = "A percentage must be between 0 and 100."
    elif value < 0:
        errors["value"] = "The value cannot be negative."
    elif abs(value) >= MAX_VALUE:
        errors["value"] = f"The value must be less than {MAX_VALUE:,}."
    today = today or timezone.localdate()
    if recorded_on is None:
        errors["recorded_on"] = "Enter the date the value is for."
    elif recorded_on > today:
        errors["recorded_on"] = "The date the value is for must be today or in the past."
    elif recorded_on < measure.baseline_date:
        errors["recorded_on"] = (
            "The date the value is for must be on or after the baseline date "
            f"({date_format(measure.baseline_date, 'j F Y')})."
        )
    elif MeasureValue.objects.filter(measure=measure, recorded_on=recorded_on).exists():
        errors["recorded_on"] = (
            f"A value for {date_format(recorded_on, 'j F Y')} is already recorded. "
            "Choose another date."
        )
    if errors:
        raise ValidationError(errors)
    measure_value = MeasureValue(
        measure=measure,
        recorded_on=recorded_on,
        value=value,
        note=(note or "").strip(),
        recorded_by=by,
        is_sample=is_sample,
    )
    measure_value._history_user = by
    measure_value.full_clean()
    measure_value.save()
    return measure_value
