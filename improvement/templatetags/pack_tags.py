"""Board pack markup written in Python where the template would cost more than the page's rest:
the rows of its tables, a few hundred in the pack of a large plan."""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_MEASURE_ROW = """
          <tr class="govuk-table__row">
            <td class="govuk-table__cell">{name} <span class="pack-secondary">({unit}; {direction})</span></td>
            <td class="govuk-table__cell govuk-table__cell--numeric">{baseline}</td>
            <td class="govuk-table__cell govuk-table__cell--numeric">{latest}</td>
            <td class="govuk-table__cell govuk-table__cell--numeric">{target} <span class="pack-secondary">by {target_date}</span></td>
            <td class="govuk-table__cell">{trend}</td>
            <td class="govuk-table__cell">{on_target}</td>
          </tr>
        """  # noqa: E501 - the rows as the template wrote them


def _text(value) -> str:
    # The standard library's escape (the same entities as Django's, which costs more).
    return escape(str(value))


@register.simple_tag
def pack_measure_rows(measures: list[dict]) -> SafeString:
    """The rows of the measures table (pack_view's measures). A pack frozen before measures
    were capped lists every measure of the plan, hundreds for the largest authorities: through
    the template's loop they would cost more than the rest of the pack's page."""
    rows = []
    for m in measures:
        if m["latest"] is not None:
            latest = (
                f'{_text(m["latest"])} <span class="pack-secondary">'
                f"({_text(m['latest_on_short'])})</span>"
            )
        else:
            latest = "No value yet"
        rows.append(
            _MEASURE_ROW.format(
                name=_text(m["name"]),
                unit=_text(m["unit"]),
                direction=_text(m["direction_text"]),
                baseline=_text(m["baseline"]),
                latest=latest,
                target=_text(m["target"]),
                target_date=_text(m["target_date_short"]),
                trend=_text(m["trend_text"]),
                on_target=_text(m["on_target_text"]),
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 - every value escaped above


_ACTION_ROW = (
    '<tr class="govuk-table__row"><td class="govuk-table__cell">{name}</td>'
    '<td class="govuk-table__cell">{owner}</td><td class="govuk-table__cell">{due}</td>'
    "{last}</tr>"
)


def _action_rows(actions: list[dict], last_cell) -> SafeString:
    return mark_safe(  # noqa: S308 - every value escaped
        "".join(
            _ACTION_ROW.format(
                name=_text(f"{a['reference']} {a['title']}"),
                owner=_text(a["owner"]),
                due=_text(a["due_short"]),
                last=last_cell(a),
            )
            for a in actions
        )
    )


@register.simple_tag
def pack_exception_rows(actions: list[dict]) -> SafeString:
    """An exception's rows (pack_view's exception_groups rows): action, owner, due, exceptions."""
    return _action_rows(
        actions,
        lambda a: f'<td class="govuk-table__cell">{_text(", ".join(a["exception_labels"]))}</td>',
    )


@register.simple_tag
def pack_area_rows(actions: list[dict]) -> SafeString:
    """An improvement area's rows (pack_view's areas rows): action, owner, due, status and RAG."""
    return _action_rows(
        actions,
        lambda a: (
            f'<td class="govuk-table__cell pack-rag--{_text(a["rag"])}">'
            f"{_text(a['status_label'])}, {_text(a['rag_label'])}</td>"
        ),
    )
