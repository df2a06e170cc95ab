"""The improvement board's calendar, its update rounds, and "Your emails".

A leader sets the board's meeting dates; the round before each meeting asks every owner of an
open action for a progress note by the date updates are due, and its page shows who has given
one. "Your emails" previews what the daily run will send the signed-in person, and lets them
switch off what they may.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from improvement import rules, services
from improvement.access import access_authority
from improvement.forms.rounds import BoardMeetingForm, EmailPreferenceForm
from improvement.forms.workflow import add_service_errors
from improvement.models import BoardMeeting, SentNotification
from improvement.selectors import reminders as reminder_reads
from improvement.selectors import rounds as round_reads

FIELD_MAP = {"meets_on": "meets_on", "updates_due_on": "updates_due_on"}


def _meeting_form_data(form: BoardMeetingForm) -> dict:
    return {
        "meets_on": form.cleaned_data["meets_on"],
        "updates_due_on": form.cleaned_data["updates_due_on"],
    }


@require_http_methods(["GET", "POST"])
def board_meetings(request: HttpRequest, pk: int) -> HttpResponse:
    """An authority's board meetings, the running round's coverage, and a form for a new date."""
    authority = access_authority(request.user, pk)
    can_manage = request.user.has_perm("improvement.manage_board_meetings", authority)
    if request.method == "POST" and not can_manage:
        raise PermissionDenied
    today = timezone.localdate()
    form = BoardMeetingForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            meeting = services.board_meeting_create(
                authority=authority, by=request.user, today=today, **_meeting_form_data(form)
            )
        except ValidationError as exc:
            add_service_errors(form, exc, FIELD_MAP)
        else:
            messages.success(
                request,
                f"Board meeting set for {meeting.meets_on:%-d %B %Y}. Owners are asked to "
                f"update their actions by {meeting.updates_due_on:%-d %B %Y}.",
            )
            return redirect(meeting)
    meetings = list(round_reads.meetings_for(user=request.user, authority=authority))
    upcoming = [m for m in meetings if m.meets_on >= today]
    next_meeting = upcoming[0] if upcoming else None
    coverage = round_reads.round_coverage(authority, next_meeting) if next_meeting else None
    return render(
        request,
        "improvement/rounds/board_meetings.html",
        {
            "authority": authority,
            "upcoming": upcoming,
            "past": [m for m in reversed(meetings) if m.meets_on < today],
            "next_meeting": next_meeting,
            "coverage": coverage,
            "round_open": next_meeting is not None and next_meeting.round_opens_on <= today,
            "form": form if can_manage else None,
            "today": today,
        },
    )


@require_http_methods(["GET", "POST"])
def board_meeting(request: HttpRequest, pk: int) -> HttpResponse:
    """One meeting's update round: who has updated and who has not; leaders can move its dates."""
    meeting = get_object_or_404(BoardMeeting.objects.select_related("authority"), pk=pk)
    if not request.user.has_perm("improvement.see_board_meetings", meeting):
        raise Http404
    today = timezone.localdate()
    can_manage = request.user.has_perm("improvement.manage_board_meetings", meeting)
    if request.method == "POST" and not can_manage:
        raise PermissionDenied
    editable = can_manage and meeting.meets_on >= today
    initial = {
        "meets_on": [meeting.meets_on.day, meeting.meets_on.month, meeting.meets_on.year],
        "updates_due_on": [
            meeting.updates_due_on.day,
            meeting.updates_due_on.month,
            meeting.updates_due_on.year,
        ],
    }
    form = BoardMeetingForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        data = _meeting_form_data(form)
        if data["updates_due_on"] is None:
            data["updates_due_on"] = services.rounds.default_updates_due_on(
                data["meets_on"], today=today
            )
        try:
            meeting = services.board_meeting_update(
                meeting=meeting, by=request.user, today=today, **data
            )
        except ValidationError as exc:
            add_service_errors(form, exc, FIELD_MAP)
        else:
            messages.success(request, "The meeting's dates have been changed.")
            return redirect(meeting)
    return render(
        request,
        "improvement/rounds/board_meeting.html",
        {
            "meeting": meeting,
            "authority": meeting.authority,
            "coverage": round_reads.round_coverage(meeting.authority_id, meeting),
            "round_open": meeting.round_opens_on <= today,
            "is_past": meeting.meets_on < today,
            "form": form if editable else None,
            "today": today,
        },
    )


@require_http_methods(["GET", "POST"])
def your_emails(request: HttpRequest) -> HttpResponse:
    """What the reminder run will send the signed-in person today, and their choices."""
    user = request.user
    if not user.has_perm("improvement.see_own_emails"):
        raise PermissionDenied
    is_leader = rules.is_senior_leader(user)
    preference = reminder_reads.preference_of(user)
    form = EmailPreferenceForm(
        request.POST if request.method == "POST" else None,
        instance=preference,
        is_leader=is_leader,
    )
    if form.is_bound and form.is_valid():
        services.email_preferences_set(user=user, by=user, **form.cleaned_data)
        messages.success(request, "Your email choices have been saved.")
        return redirect("improvement:your-emails")
    today, now = timezone.localdate(), timezone.now()
    reminder = next(
        reminder_reads.owner_reminders(
            today=today, now=now, owner_ids=[user.pk], exclude_sent=False
        ),
        None,
    )
    digest = None
    if is_leader:
        digest = next(
            reminder_reads.leader_digests(
                today=today,
                now=now,
                leader_ids=[user.pk],
                exclude_sent=False,
                respect_preferences=False,
                with_items=False,
                reuse_counts=True,
            ),
            None,
        )
    sent = {
        (row.kind, row.day): row
        for row in SentNotification.objects.filter(recipient=user).order_by("-day")[:20]
    }
    recent = sorted(sent.values(), key=lambda r: (r.day, r.sent_at), reverse=True)
    return render(
        request,
        "improvement/rounds/your_emails.html",
        {
            "form": form,
            "reminder": reminder,
            "sections": reminder.section_list if reminder else [],
            "sent_today": (SentNotification.Kind.OWNER_DAILY, today) in sent,
            "digest": digest,
            "digest_week_sent": digest is not None
            and (SentNotification.Kind.LEADER_WEEKLY, digest.week_of) in sent,
            "digest_weekday": reminder_reads.WEEKDAYS[settings.DIGEST_WEEKDAY],
            "recent": recent,
            "has_email": bool(user.email),
            "is_leader": is_leader,
            "today": today,
        },
    )
