"""The tags every action row shows: its status, RAG rating and the exceptions that need attention,
when it was last updated, and its dates. Defined once here, in Python, because lists draw them on
every row: a template include per tag, or Django's date filter per date, cost more than the rest of
the row together.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from html import escape

from django import template
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe

from improvement.models import Action

register = template.Library()

# GOV.UK tag colour and plain-English default for each delivery status and RAG rating. Only
# "closed" is green among statuses: "delivered" is not done until its impact is evidenced.
TAG_STYLES = {
    "not_started": ("grey", "Not started"),
    "in_progress": ("light-blue", "In progress"),
    "delivered": ("turquoise", "Delivered"),
    "closed": ("green", "Closed"),
    "red": ("red", "Red"),
    "amber": ("orange", "Amber"),
    "green": ("green", "Green"),
    "blue": ("blue", "Blue"),
}
# Labels by value, read once: a model's get_FOO_display() rebuilds its choices on every call.
DELIVERY_LABELS = dict(Action.DeliveryStatus.choices)
IMPACT_LABELS = dict(Action.ImpactStatus.choices)
RAG_LABELS = dict(Action.Rag.choices)


def _tag(colour: str, text) -> SafeString:
    # The standard library's escape (the same entities): Django's, lazy-aware, costs more.
    return mark_safe(  # noqa: S308 - the colour is ours, the text escaped
        f'<strong class="govuk-tag govuk-tag--{colour}">{escape(str(text))}</strong>'
    )


OVERDUE = _tag("red", "Overdue")
AWAITING_SIGN_OFF = _tag("yellow", "Awaiting sign-off")
SENT_BACK = _tag("orange", "Sent back")


@register.simple_tag
def status_tag(value, label=None) -> SafeString:
    """A delivery status or RAG rating as a GOV.UK tag. The text is always shown, so colour is
    never the only cue (WCAG 1.4.1); `label` overrides the default wording."""
    colour, default = TAG_STYLES.get(value, ("grey", value or "Not set"))
    return _tag(colour, label or default)


@register.simple_tag
def action_state_tags(action, states, rag: bool = True) -> SafeString:
    """An action's status (closed, or its delivery status), its RAG rating unless the row shows
    it in a column of its own, and a tag for each exception (rulebook.ActionStates)."""
    if states.closed:
        tags = [status_tag("closed", IMPACT_LABELS.get(action.impact_status))]
    else:
        status = action.delivery_status
        tags = [status_tag(status, DELIVERY_LABELS.get(status))]
    if rag:
        tags.append(status_tag(action.rag, RAG_LABELS.get(action.rag)))
    if states.overdue:
        tags.append(OVERDUE)
    if states.awaiting_sign_off:
        tags.append(AWAITING_SIGN_OFF)
    if states.sent_back:
        tags.append(SENT_BACK)
    if states.slipped:
        tags.append(_tag("pink", f"Re-dated {action.due_date_change_count} times"))
    if states.stale:
        tags.append(_tag("grey", f"No update for {states.stale_after_days} days"))
    joined = "\n".join(tags)
    return mark_safe(f'<span class="app-tags">{joined}</span>')  # noqa: S308 - tags are safe


@register.simple_tag
def rag_tag(action) -> SafeString:
    """The RAG rating as a tag, for a column of its own."""
    return status_tag(action.rag, RAG_LABELS.get(action.rag))


@lru_cache(maxsize=8192)
def _day(day: dt.date, format_string: str, language: str) -> str:
    return date_format(day, format_string)


@register.filter
def day(value: dt.date | dt.datetime | None, format_string: str = "j M Y") -> str:
    """A day as Django's date filter writes it (a datetime by its day in the project's time
    zone), remembered: a list formats the same few hundred days on every page. For formats of
    the day only ("j M Y", "j F Y"), not of the time."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return _day(value, format_string, translation.get_language())


def last_update_text(last_note_at: dt.datetime | None, long: bool = False) -> str:
    """ "Last updated" on every page: the day of the action's latest progress note. An action never
    noted says so, rather than passing its creation off as an update (rulebook.last_update
    orders such actions by their creation)."""
    if not last_note_at:
        return "No progress note yet"
    return day(last_note_at, "j F Y" if long else "j M Y")


@register.simple_tag
def last_update(action, long: bool = False) -> str:
    """last_update_text of an action."""
    return last_update_text(action.last_note_at, long)
