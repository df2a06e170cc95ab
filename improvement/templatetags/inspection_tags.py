"""Inspection page markup written in Python where the template's loop would cost the most."""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_ACTION_ROW = """
                  <tr class="govuk-table__row">
                    <th scope="row" class="govuk-table__header app-table__title"><a class="govuk-link" href="{href}">{name}</a></th>
                    <td class="govuk-table__cell" data-label="Owner">{owner}{team}</td>
                    <td class="govuk-table__cell" data-label="Status">{status_tags}</td>
                    <td class="govuk-table__cell app-nowrap" data-label="Due date">{due}</td>
                  </tr>
                """  # noqa: E501 - the rows as the template wrote them
_TEAM = '<span class="govuk-body-s app-secondary-text app-block">{}</span>'


@register.simple_tag
def area_action_rows(actions) -> SafeString:
    """The rows of an area's actions table (views.inspections._action_row's). A page of areas
    shows up to 200 of them: through the template's loop they cost as much as the rest of the
    page."""
    # The standard library's escape: the same entities as Django's, which costs more.
    rows = [
        _ACTION_ROW.format(
            href=escape(action.href),
            name=escape(action.name),
            owner=escape(action.owner),
            team=_TEAM.format(escape(action.team_name)) if action.team_name else "",
            status_tags=action.status_tags,
            due=escape(action.due),
        )
        for action in actions
    ]
    return mark_safe("".join(rows))  # noqa: S308 - every value escaped, the tags are safe
