"""Deadline change requests and decisions (the slippage register), and closing actions.

Owners ask for a new due date; a senior leader or administrator who did not ask decides. A
delivered action waits for a senior leader to sign it off (impact evidenced, or closed without it
and why) or to send it back to the owner.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from improvement import rulebook, services
from improvement.access import access_action, access_due_date_change
from improvement.forms.workflow import (
    DeadlineDecisionForm,
    DeadlineRequestForm,
    SendBackForm,
    SignOffForm,
    add_service_errors,
)
from improvement.models import Action, DueDateChange
from improvement.selectors import actions as action_reads
from improvement.selectors import workflow as workflow_reads
from improvement.selectors.dashboard import measure_progress_from_prefetched

PAGE_SIZE = 50
RECENT_DECISIONS = 20
CONCURRENT_EDIT_MESSAGE = (
    "Someone else changed this action while you were looking at it. "
    "Check what is shown now, then try again."
)


def _date(value) -> str:
    return f"{value:%-d %B %Y}"


# Deadline change requests


@require_http_methods(["GET", "POST"])
def deadline_request(request: HttpRequest, pk: int) -> HttpResponse:
    action = access_action(request.user, pk)
    # A closed action says so to anyone who may see it, rather than a bare "forbidden"; a POST
    # from someone who may not update the action is refused all the same.
    may_update = request.user.has_perm("improvement.update_action", action)
    if not may_update and (request.method == "POST" or not action.is_closed):
        raise PermissionDenied
    changes = list(action.due_date_changes.select_related("requested_by", "decided_by"))
    pending = next((c for c in changes if c.status == DueDateChange.Status.PENDING), None)
    can_request = not action.is_closed and pending is None
    today = timezone.localdate()
    form = DeadlineRequestForm(
        request.POST if request.method == "POST" and can_request else None,
        action=action,
        today=today,
    )
    if form.is_bound and form.is_valid():
        try:
            change = services.due_date_change_request(
                action=action,
                by=request.user,
                new_date=form.cleaned_data["new_date"],
                reason=form.cleaned_data["reason"],
                today=today,
            )
        except ValidationError as exc:
            add_service_errors(form, exc, {"new_date": "new_date", "reason": "reason"})
        else:
            messages.success(
                request,
                f"Your request to move the due date to {_date(change.new_date)} has been sent "
                "to a senior leader for a decision.",
            )
            return redirect(action)
    return render(
        request,
        "improvement/deadline_request.html",
        {
            "action": action,
            "form": form,
            "pending": pending,
            "can_request": can_request,
            "decided": [c for c in changes if c.status != DueDateChange.Status.PENDING],
        },
    )


def _decorate_changes(changes, user) -> list[DueDateChange]:
    changes = list(changes)
    for change in changes:
        change.slip_days = (change.new_date - change.old_date).days
        change.can_decide = change.status == DueDateChange.Status.PENDING and user.has_perm(
            "improvement.decide_deadline", change
        )
    return changes


@require_GET
def deadline_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.has_perm("improvement.see_deadline_register"):
        raise PermissionDenied
    sees_all = user.has_perm("improvement.see_whole_deadline_register")
    register = workflow_reads.due_date_changes_in_scope(
        user=user, involving=None if sees_all else user
    )
    pending = register.filter(status=DueDateChange.Status.PENDING).order_by("created_at", "pk")
    page_obj = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("page"))
    decided = workflow_reads.recent_due_date_decisions(
        user=user, involving=None if sees_all else user, limit=RECENT_DECISIONS
    )
    return render(
        request,
        "improvement/deadline_list.html",
        {
            "page_obj": page_obj,
            "pending": _decorate_changes(page_obj.object_list, user),
            "decided": _decorate_changes(decided, user),
            "sees_all": sees_all,
        },
    )


@require_http_methods(["GET", "POST"])
def deadline_decide(request: HttpRequest, pk: int) -> HttpResponse:
    change = access_due_date_change(request.user, pk, perm="improvement.decide_deadline")
    action = change.action
    is_pending = change.status == DueDateChange.Status.PENDING
    history = list(
        action.due_date_changes.exclude(pk=change.pk).select_related("requested_by", "decided_by")
    )
    form = DeadlineDecisionForm(request.POST if request.method == "POST" and is_pending else None)
    if form.is_bound and form.is_valid():
        try:
            services.due_date_change_decide(
                change=change,
                by=request.user,
                approve=form.approve,
                note=form.cleaned_data["decision_note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc, {"decision_note": "decision_note"})
        except services.ConcurrentEditError:
            form.add_error(None, CONCURRENT_EDIT_MESSAGE)
        else:
            if form.approve:
                text = f"Approved: “{action}” is now due on {_date(change.new_date)}."
            else:
                text = (
                    f"Refused: “{action}” stays due on {_date(change.old_date)}. "
                    "The owner can see your note."
                )
            messages.success(request, text)
            return redirect("improvement:deadline-list")
    return render(
        request,
        "improvement/deadline_decide.html",
        {
            "change": change,
            "action": action,
            "form": form,
            "is_pending": is_pending,
            "slip_days": (change.new_date - change.old_date).days,
            "history": history,
            "states": rulebook.states_of(action, today=timezone.localdate(), now=timezone.now()),
        },
    )


# Sign-off: closing delivered actions


@require_GET
def sign_off_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.has_perm("improvement.see_sign_off_queue"):
        raise PermissionDenied
    queryset = workflow_reads.actions_awaiting_sign_off(user=user)
    page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    actions = list(page_obj.object_list)
    for action in actions:
        action.can_sign_off = user.has_perm("improvement.sign_off_action", action)
    return render(
        request,
        "improvement/sign_off_list.html",
        {"page_obj": page_obj, "actions": actions},
    )


def _awaiting_sign_off(action: Action) -> bool:
    return action.delivery_status == Action.DeliveryStatus.DELIVERED and not action.is_closed


def _sign_off_action(request: HttpRequest, pk: int) -> Action:
    return access_action(
        request.user,
        pk,
        perm="improvement.sign_off_action",
        queryset=action_reads.action_sign_off_queryset(),
    )


def _rebind_with_version(form_class, request: HttpRequest, action: Action):
    """The same form with the action's current version, so the next submit can go through."""
    data = request.POST.copy()
    data["version"] = str(action.version)
    form = form_class(data, action=action)
    form.is_valid()
    form.add_error(None, CONCURRENT_EDIT_MESSAGE)
    return form


@require_http_methods(["GET", "POST"])
def action_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    action = _sign_off_action(request, pk)
    awaiting = _awaiting_sign_off(action)
    form = SignOffForm(
        request.POST if request.method == "POST" and awaiting else None, action=action
    )
    if form.is_bound and form.is_valid():
        try:
            services.action_sign_off(
                action=action,
                by=request.user,
                expected_version=form.cleaned_data["version"],
                impact_evidenced=form.impact_evidenced,
                note=form.cleaned_data["note"],
            )
        except services.ConcurrentEditError:
            # The service changed the action in memory before the version check failed.
            action = _sign_off_action(request, pk)
            form = _rebind_with_version(SignOffForm, request, action)
        except ValidationError as exc:
            # The only whole-form refusal left here is "no evidence", which is about the choice.
            add_service_errors(form, exc, {"note": "note", "__all__": "outcome"})
        else:
            messages.success(
                request, f"“{action}” is closed: {action.get_impact_status_display().lower()}."
            )
            return redirect(action)
    return render(
        request,
        "improvement/action_sign_off.html",
        {
            "action": action,
            "form": form,
            "awaiting": awaiting,
            "measures": [measure_progress_from_prefetched(m) for m in action.measures.all()],
        },
    )


@require_http_methods(["GET", "POST"])
def action_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    action = _sign_off_action(request, pk)
    awaiting = _awaiting_sign_off(action)
    form = SendBackForm(
        request.POST if request.method == "POST" and awaiting else None, action=action
    )
    if form.is_bound and form.is_valid():
        try:
            services.action_send_back(
                action=action,
                by=request.user,
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
            )
        except services.ConcurrentEditError:
            action = _sign_off_action(request, pk)
            form = _rebind_with_version(SendBackForm, request, action)
        except ValidationError as exc:
            add_service_errors(form, exc, {"reason": "reason", "text": "reason"})
        else:
            messages.success(
                request, f"“{action}” has been sent back to {action.owner} as in progress."
            )
            return redirect(reverse("improvement:sign-off-list"))
    return render(
        request,
        "improvement/action_send_back.html",
        {"action": action, "form": form, "awaiting": awaiting},
    )
