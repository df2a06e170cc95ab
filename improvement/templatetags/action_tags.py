"""The tags every action row shows: its status, RAG rating and the exceptions that need attention,
and when it was last updated. Defined once here, in Python, because lists render them on every row:
a template include per tag cost more than the rest of the row together.
"""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

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


def _tag(colour: str, text) -> SafeString:
    return format_html('<strong class="govuk-tag govuk-tag--{}">{}</strong>', colour, text)


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
        tags = [status_tag("closed", action.get_impact_status_display())]
    else:
        tags = [status_tag(action.delivery_status, action.get_delivery_status_display())]
    if rag:
        tags.append(status_tag(action.rag, action.get_rag_display()))
    if states.overdue:
        tags.append(_tag("red", "Overdue"))
    if states.awaiting_sign_off:
        tags.append(_tag("yellow", "Awaiting sign-off"))
    if states.sent_back:
        tags.append(_tag("orange", "Sent back"))
    if states.slipped:
        tags.append(_tag("pink", f"Re-dated {action.due_date_change_count} times"))
    if states.stale:
        tags.append(_tag("grey", f"No update for {states.stale_after_days} days"))
    return format_html(
        '<span class="app-tags">{}</span>', format_html_join("\n", "{}", ((t,) for t in tags))
    )


@register.simple_tag
def last_update(action, long: bool = False) -> str:
    """ "Last updated" on every page: the date of the action's latest progress note. An action never
    noted says so, rather than passing its creation off as an update (rulebook.last_update
    orders such actions by their creation)."""
    if not action.last_note_at:
        return mark_safe("No progress note yet")
    # As the |date filter does: the day in the project's time zone, not UTC's.
    return date_format(timezone.localtime(action.last_note_at), "j F Y" if long else "j M Y")
