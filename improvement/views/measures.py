"""A measure of children's outcomes: its values over time against baseline and target, and the
form to record the next one (the owner of an action it tracks, or a leader)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from improvement import services
from improvement.forms.plans import MeasureValueForm
from improvement.forms.workflow import add_service_errors
from improvement.models import Action, Measure, MeasureValue
from improvement.selectors.dashboard import measure_progress_from_prefetched
from improvement.views.dashboard import _format_value

UNIT_SUFFIX = {
    Measure.Unit.PERCENT: "per cent (0 to 100)",
    Measure.Unit.COUNT: "a number",
    Measure.Unit.DAYS: "days",
    Measure.Unit.RATE: "a rate per 10,000 children",
}


def _measure_queryset():
    return Measure.objects.select_related("authority").prefetch_related(
        Prefetch(
            "values",
            queryset=MeasureValue.objects.select_related("recorded_by").order_by(
                "-recorded_on", "-pk"
            ),
        ),
        Prefetch("actions", queryset=Action.objects.select_related("owner").order_by("due_date")),
    )


@require_http_methods(["GET", "POST"])
def measure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    measure = get_object_or_404(_measure_queryset(), pk=pk)
    if not user.has_perm("improvement.see_measure", measure):
        raise Http404
    may_record = user.has_perm("improvement.record_measure_value", measure)
    if request.method == "POST" and not may_record:
        raise PermissionDenied
    form = MeasureValueForm(
        request.POST if request.method == "POST" else None,
        unit_suffix=UNIT_SUFFIX.get(measure.unit, ""),
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            recorded = services.measure_record_value(
                measure=measure,
                recorded_on=data["recorded_on"],
                value=data["value"],
                note=data["note"],
                by=user,
                today=timezone.localdate(),
            )
        except ValidationError as exc:
            add_service_errors(
                form, exc, {"value": "value", "recorded_on": "recorded_on", "note": "note"}
            )
        else:
            messages.success(
                request,
                f"{_format_value(measure, recorded.value)} recorded for "
                f"{recorded.recorded_on:%-d %B %Y}.",
            )
            return redirect("improvement:measure-detail", pk=measure.pk)
    values = list(measure.values.all())
    rows = []
    for value in values:
        rows.append(
            {
                "value": value,
                "shown": _format_value(measure, value.value),
                "on_target": measure.is_on_target(value.value),
                "improving": measure.is_improving(value.value),
            }
        )
    return render(
        request,
        "improvement/measure_detail.html",
        {
            "measure": measure,
            "progress": measure_progress_from_prefetched(measure),
            "baseline": _format_value(measure, measure.baseline_value),
            "target": _format_value(measure, measure.target_value),
            "rows": rows,
            "actions": list(measure.actions.all()),
            "form": form,
            "may_record": may_record,
        },
    )
