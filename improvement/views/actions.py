"""Owners' pages: the action list, "My actions", an action's whole trail and the quick update."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from improvement import exports, rulebook, services
from improvement.access import access_action
from improvement.filters import ActionFilter
from improvement.forms.actions import QuickUpdateForm
from improvement.models import Action, Evidence
from improvement.paging import SEARCH_COUNT_CAP, CappedPaginator
from improvement.selectors import actions as action_reads
from improvement.selectors import history as history_reads
from improvement.uploads import stored_file_download

PAGE_SIZE = 25
# The lists count their rows this far ("more than 1,000 actions"): forty pages is past anything
# a person pages through, and each row counted is an index entry read on every page; the
# dashboard gives the exact totals.
LIST_COUNT_CAP = 1_000
# An action's page compares this many of its latest history records: years of weekly updates
# would otherwise make a page that only grows.
HISTORY_SHOWN = 50

# Sortable columns of the action list: (heading, sort key); None is not sortable.
LIST_COLUMNS = [
    ("Reference", None),
    ("Action", "title"),
    ("Owner", "owner"),
    ("Due date", "due_date"),
    ("Status", "status"),
    ("RAG", "rag"),
    ("Last updated", "updated"),
]


SELECT_FILTERS = (
    "status",
    "rag",
    "impact",
    "owner",
    "team",
    "authority",
    "inspection",
    "area",
    "theme",
    "due_within",
    "sort",
)
FLAG_FILTERS = ("overdue", "stale", "slipped", "awaiting_sign_off")


def _style_filter_field(form, name: str) -> None:
    """GOV.UK classes and aria-describedby on one filter control (no template loop over options)."""
    field, widget = form.fields[name], form.fields[name].widget
    errors = form.errors.get(name)
    if name == "q":
        css = "govuk-input"
    elif name == "due_within":
        css = "govuk-input govuk-input--width-4"
        widget.input_type = "text"
        widget.attrs["inputmode"] = "numeric"
    else:
        css = "govuk-select"
    if errors:
        css += " govuk-select--error" if css == "govuk-select" else " govuk-input--error"
    widget.attrs["class"] = css
    described = [f"id_{name}-hint"] if field.help_text else []
    described += [f"id_{name}-error"] if errors else []
    if described:
        widget.attrs["aria-describedby"] = " ".join(described)


def _require_role(request: HttpRequest) -> None:
    if not request.user.has_perm("improvement.see_plan"):
        raise PermissionDenied


def _mark_rows(actions) -> None:
    """Each row's states, as the rulebook annotated them (no queries), for the templates."""
    for action in actions:
        action.states = rulebook.states_from_annotations(action)


def _sort_headers(request: HttpRequest, active: str) -> list[dict]:
    headers = []
    active_key = active.lstrip("-")
    descending = active.startswith("-")
    for label, key in LIST_COLUMNS:
        header = {"label": label, "key": key, "href": None, "aria_sort": None}
        if key:
            query = request.GET.copy()
            query.pop("page", None)
            is_active = key == active_key
            # Clicking the active column reverses it; any other column starts ascending.
            query["sort"] = f"-{key}" if is_active and not descending else key
            header["href"] = f"?{query.urlencode()}"
            if is_active:
                header["aria_sort"] = "descending" if descending else "ascending"
            else:
                header["aria_sort"] = "none"
        headers.append(header)
    return headers


@require_GET
def my_actions(request: HttpRequest) -> HttpResponse:
    """The signed-in user's open actions (owned, or owned by a team they lead), overdue first."""
    if not request.user.has_perm("improvement.see_my_actions"):
        raise PermissionDenied
    today, now = timezone.localdate(), timezone.now()
    rows = rulebook.with_states(
        action_reads.with_decisions(action_reads.action_queryset()), today=today, now=now
    )
    actions = action_reads.OwnerActionList(user=request.user, today=today, rows=rows)
    page = CappedPaginator(actions, PAGE_SIZE, cap=LIST_COUNT_CAP, ids_first=False).get_page(
        request.GET.get("page")
    )
    _mark_rows(page.object_list)
    for action in page.object_list:
        action.row_can_update = request.user.has_perm("improvement.update_action", action)
        action.decision = action_reads.decision_of(action)
    return render(
        request,
        "improvement/my_actions.html",
        {"page_obj": page, "actions": page.object_list, "today": today},
    )


@require_GET
def action_list(request: HttpRequest) -> HttpResponse:
    """Every action the user may see, filtered, sorted and paginated; the state is in the URL."""
    _require_role(request)
    today, now = timezone.localdate(), timezone.now()
    action_filter = ActionFilter(
        request.GET,
        queryset=rulebook.with_states(
            action_reads.actions_visible_to(user=request.user), today=today, now=now
        ),
        request=request,
        today=today,
        now=now,
    )
    search = action_filter.is_search
    page = CappedPaginator(
        action_filter.qs,
        PAGE_SIZE,
        cap=SEARCH_COUNT_CAP if search else LIST_COUNT_CAP,
        count_in_order=search,
    ).get_page(request.GET.get("page"))
    _mark_rows(page.object_list)
    action_filter.offer_choices()
    form = action_filter.form
    for name in (*SELECT_FILTERS, "q"):
        _style_filter_field(form, name)
    filtered = any(
        value for key, value in request.GET.items() if key not in ("page", "sort") and value
    )
    return render(
        request,
        "improvement/action_list.html",
        {
            "filter": action_filter,
            "form": form,
            "page_obj": page,
            "actions": page.object_list,
            "headers": _sort_headers(request, action_filter.sort_value),
            "selects": action_filter.selects(SELECT_FILTERS),
            "flags": [form[name] for name in FLAG_FILTERS],
            "filtered": filtered,
            "xlsx_max_rows": exports.XLSX_MAX_ROWS,
        },
    )


@require_GET
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole trail: report paragraphs, areas, milestones, notes, evidence, measures, history."""
    user, now = request.user, timezone.now()
    today = timezone.localdate(now)
    action = access_action(user, pk, queryset=action_reads.action_trail_queryset())
    can_update = user.has_perm("improvement.update_action", action)
    parts = action_reads.action_trail(action)
    history, history_cut = history_reads.latest_action_history(action=action, latest=HISTORY_SHOWN)
    return render(
        request,
        "improvement/action_detail.html",
        {
            "action": action,
            "trail": parts,
            "today": today,
            "states": rulebook.states_of_loaded(action, today=today, now=now),
            "decision": action_reads.decision_in_trail(action, parts),
            "can_update": can_update,
            "can_sign_off": (
                user.has_perm("improvement.sign_off_action", action)
                and action.delivery_status == Action.DeliveryStatus.DELIVERED
                and not action.is_closed
            ),
            "completed_milestones": ",".join(str(m.pk) for m in parts.milestones if m.is_complete),
            "history": history,
            "history_cut": history_cut,
            "history_shown": HISTORY_SHOWN,
        },
    )


def _apply_quick_update(form: QuickUpdateForm, *, action: Action, user) -> None:
    data = form.cleaned_data
    ticked, unticked = form.milestone_changes
    by_pk = {m.pk: m for m in form.milestone_list}
    services.action_quick_update(
        action=action,
        by=user,
        expected_version=data["version"],
        text=data.get("text") or "",
        delivery_status=data.get("delivery_status") or None,
        rag=data.get("rag") or None,
        milestones_ticked=[by_pk[pk] for pk in ticked if pk in by_pk],
        milestones_unticked=[by_pk[pk] for pk in unticked if pk in by_pk],
        evidence_url=data.get("evidence_url") or "",
        evidence_file=data.get("evidence_file"),
        evidence_title=(data.get("evidence_title") or "").strip(),
    )


def _update_queryset():
    return Action.objects.select_related("team", "owner").prefetch_related(
        "milestones",
    )


@require_http_methods(["GET", "POST"])
def action_update(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner's quick update, with optimistic locking against someone else's save."""
    action = access_action(
        request.user, pk, perm="improvement.update_action", queryset=_update_queryset()
    )
    conflict = None
    if request.method == "POST":
        form = QuickUpdateForm(request.POST, request.FILES, action=action)
        if form.is_valid():
            try:
                _apply_quick_update(form, action=action, user=request.user)
            except services.ConcurrentEditError as exc:
                action = _update_queryset().get(pk=pk)
                entries, notes = history_reads.action_changes_since(
                    action=action, version=exc.expected_version
                )
                conflict = {
                    "entries": entries,
                    "notes": notes,
                    "file_dropped": bool(form.cleaned_data.get("evidence_file")),
                }
                form = form.rebound_after_conflict(action=action)
                form.is_valid()
            except ValidationError as exc:
                # The transaction rolled back; show the action as it is, not as it was mutated.
                action = _update_queryset().get(pk=pk)
                had_file = bool(form.cleaned_data.get("evidence_file"))
                form = QuickUpdateForm(request.POST, action=action)
                form.is_valid()
                form.add_service_error(exc)
                if had_file and "evidence_file" not in form.errors:
                    form.add_error("evidence_file", "Nothing was saved: select the file again.")
            else:
                messages.success(request, "Your update has been saved.")
                return redirect(action)
    else:
        form = QuickUpdateForm(action=action)
    return render(
        request,
        "improvement/action_update.html",
        {
            "action": action,
            "form": form,
            "conflict": conflict,
            "max_upload": settings.EVIDENCE_MAX_BYTES,
        },
    )


@require_GET
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Serve an evidence file as a download, only to those who may see its action."""
    evidence = get_object_or_404(Evidence.objects.exclude(file=""), pk=pk)
    access_action(request.user, evidence.action_id)
    return stored_file_download(evidence.file, evidence.content_type)
