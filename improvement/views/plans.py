"""Recording the post-inspection action plan as sent, from the inspection page.

A senior leader or administrator records the draft or final plan (date, document or link, note);
the statutory clock on the inspection page and the dashboard stops there.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from improvement import services
from improvement.access import access_inspection
from improvement.clock import action_plan_clock
from improvement.forms.plans import PlanSubmissionForm
from improvement.forms.workflow import add_service_errors
from improvement.models import Inspection, PlanSubmission
from improvement.uploads import stored_file_download


@require_http_methods(["GET", "POST"])
def plan_submission_record(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = access_inspection(
        request.user,
        pk,
        queryset=Inspection.objects.select_related("authority").prefetch_related(
            "improvement_areas", "plan_submissions"
        ),
    )
    if not request.user.has_perm("improvement.record_plan_submission", inspection):
        raise PermissionDenied
    today = timezone.localdate()
    clock = action_plan_clock(inspection, today)
    sent = {s.stage: s for s in inspection.plan_submissions.all()}
    initial_stage = (
        PlanSubmission.Stage.DRAFT
        if clock.requirement.needs_draft and "draft" not in sent and "final" not in sent
        else PlanSubmission.Stage.FINAL
    )
    form = PlanSubmissionForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial={"stage": initial_stage},
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            submission = services.plan_submission_record(
                inspection=inspection,
                stage=data["stage"],
                submitted_on=data["submitted_on"],
                by=request.user,
                url=data["url"] or "",
                upload=data["file"],
                note=data["note"],
                today=today,
            )
        except ValidationError as exc:
            add_service_errors(
                form,
                exc,
                {"submitted_on": "submitted_on", "url": "url", "file": "file", "note": "note"},
            )
        else:
            messages.success(
                request,
                f"{submission.get_stage_display()} recorded as sent on "
                f"{submission.submitted_on:%-d %B %Y}.",
            )
            return redirect(f"{inspection.get_absolute_url()}#clock")
    return render(
        request,
        "improvement/plan_submission_form.html",
        {"inspection": inspection, "form": form, "clock": clock, "sent": sent},
    )


@require_GET
def plan_document_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Serve a plan document to those who may see its inspection."""
    submission = get_object_or_404(PlanSubmission.objects.exclude(file=""), pk=pk)
    access_inspection(request.user, submission.inspection_id)
    return stored_file_download(submission.file, submission.content_type)
