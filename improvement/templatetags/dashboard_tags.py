"""The dashboard's repeated rows (bar charts, exception lists, measures, judgement history and
recurring themes), drawn in Python: the same markup the template loops drew, at a fraction of
their cost (a template variable or include per cell was most of the page's render time).

Every value passes through format_html, so it is escaped exactly as the template escaped it.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# GOV.UK tag colour of each Ofsted grade (as templates/improvement/includes/grade_tag.html).
GRADE_COLOURS = {"outstanding": "turquoise", "good": "green", "inadequate": "red"}


def _join(rows) -> SafeString:
    """Rows each already escaped by format_html, one a line."""
    return format_html_join("\n", "{}", ((row,) for row in rows))


def _date(value, pattern: str) -> str:
    return date_format(value, pattern) if value else ""


def _when(inspection):
    return inspection.start_date or inspection.publication_date


def inspection_name(inspection) -> str:
    """As templates/improvement/includes/inspection_name.html: "ILACS standard inspection,
    October 2021"."""
    return f"{inspection.get_kind_display()}, {_date(_when(inspection), 'F Y')}"


def grade_tag(judgement) -> SafeString:
    colour = GRADE_COLOURS.get(judgement.grade, "yellow")
    return format_html(
        '<strong class="govuk-tag app-grade-tag govuk-tag--{}">{}</strong>',
        colour,
        judgement.get_grade_display(),
    )


@register.simple_tag
def bar_chart_rows(rows) -> SafeString:
    """The rows of a bar chart table (templates/improvement/includes/bar_chart.html)."""
    return _join(
        format_html(
            '<tr class="govuk-table__row">'
            '<th scope="row" class="govuk-table__header app-chart-table__label">{label}</th>'
            '<td class="govuk-table__cell govuk-table__cell--numeric">'
            '<a class="govuk-link" href="{href}">{count}'
            '<span class="govuk-visually-hidden"> {lower} actions</span></a></td>'
            '<td class="govuk-table__cell app-chart-table__bar">'
            '<span class="app-chart-table__percent">{percent}%</span> '
            '<span class="app-bar" aria-hidden="true"><span class="app-bar__fill '
            'app-bar__fill--{colour} app-bar__fill--{percent}"></span></span></td></tr>',
            label=row["label"],
            href=row["href"],
            count=row["count"],
            lower=str(row["label"]).lower(),
            percent=row["percent"],
            colour=row["colour"],
        )
        for row in rows
    )


@register.simple_tag
def exception_rows(rows, when_heading: str, days_heading: str) -> SafeString:
    """The rows of an exception list (templates/improvement/includes/exception_table.html)."""
    return _join(
        format_html(
            '<tr class="govuk-table__row">'
            '<th scope="row" class="govuk-table__header govuk-!-font-weight-regular">'
            '<a class="govuk-link" href="{}">{}</a></th>'
            '<td class="govuk-table__cell" data-label="Owner">{}</td>'
            '<td class="govuk-table__cell" data-label="Team">{}</td>'
            '<td class="govuk-table__cell" data-label="{}">{}</td>'
            '<td class="govuk-table__cell govuk-table__cell--numeric" data-label="{}">{}</td>'
            "</tr>",
            row["href"],
            row["name"],
            row["owner"],
            row["team"],
            when_heading,
            row["when"],
            days_heading,
            row["days"],
        )
        for row in rows
    )


def _where_it_stands(progress) -> SafeString:
    if not progress.has_value:
        return mark_safe('<strong class="govuk-tag govuk-tag--grey">No value yet</strong>')
    if progress.on_target:
        tag, colour, bar = "On target", "green", "green"
    elif progress.improving:
        tag, colour, bar = "Improving, not on target", "yellow", "amber"
    else:
        tag, colour, bar = "Not improving", "red", "red"
    percent = progress.percent_of_way
    return format_html(
        '<strong class="govuk-tag govuk-tag--{}">{}</strong> '
        '<span class="govuk-body-s app-block">{}% of the way from baseline to target</span> '
        '<span class="app-bar" aria-hidden="true"><span class="app-bar__fill '
        'app-bar__fill--{} app-bar__fill--{}"></span></span>',
        colour,
        tag,
        percent,
        bar,
        percent,
    )


@register.simple_tag
def measure_rows(rows) -> SafeString:
    """The rows of the dashboard's measures table; `rows` as views.dashboard._measure_rows."""
    # One reverse() for the table, each row's link from it.
    href = reverse("improvement:measure-detail", args=[0])[: -len("0/")] + "{}/"
    out = []
    for row in rows:
        measure, progress = row["measure"], row["progress"]
        if progress.has_value:
            latest = format_html(
                '{}<span class="govuk-body-s app-secondary-text app-block">{}</span>',
                row["latest"],
                _date(progress.latest_on, "j M Y"),
            )
        else:
            latest = "No value yet"
        out.append(
            format_html(
                '<tr class="govuk-table__row">'
                '<th scope="row" class="govuk-table__header">'
                '<a class="govuk-link" href="{}">{}</a>'
                '<span class="govuk-body-s app-secondary-text app-block">{}</span></th>'
                '<td class="govuk-table__cell" data-label="Baseline">{}'
                '<span class="govuk-body-s app-secondary-text app-block">{}</span></td>'
                '<td class="govuk-table__cell" data-label="Latest">{}</td>'
                '<td class="govuk-table__cell" data-label="Target">{}'
                '<span class="govuk-body-s app-secondary-text app-block">by {}</span></td>'
                '<td class="govuk-table__cell app-measures-table__progress" '
                'data-label="Where it stands">{}</td></tr>',
                href.format(measure.pk),
                measure.name,
                measure.get_direction_display(),
                row["baseline"],
                _date(measure.baseline_date, "j M Y"),
                latest,
                row["target"],
                _date(measure.target_date, "j M Y"),
                _where_it_stands(progress),
            )
        )
    return _join(out)


@register.simple_tag
def history_timeline(inspections) -> SafeString:
    """The glance strip of the judgement history (aria-hidden: the list says the same)."""
    items = []
    for inspection in inspections:
        overall = inspection.overall_judgement
        items.append(
            format_html(
                '<li class="app-timeline__item app-timeline__item--{}">'
                '<span class="app-timeline__year">{}</span>'
                '<span class="app-timeline__kind">{}</span>'
                '<span class="app-timeline__grade">{}</span></li>',
                overall.grade if overall and overall.grade else "none",
                _date(_when(inspection), "M Y"),
                inspection.get_kind_display(),
                overall.get_grade_display() if overall else "No overall judgement",
            )
        )
    return _join(items)


def _history_dates(inspection) -> str:
    text = ""
    if inspection.start_date:
        text = f"Fieldwork {_date(inspection.start_date, 'j F Y')}"
        if inspection.end_date:
            text += f" to {_date(inspection.end_date, 'j F Y')}"
        if inspection.publication_date:
            text += "; "
    if inspection.publication_date:
        text += f"published {_date(inspection.publication_date, 'j F Y')}"
    return text


def _summary_row(key, value) -> SafeString:
    return format_html(
        '<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">{}</dt>'
        '<dd class="govuk-summary-list__value">{}</dd></div>',
        key,
        value,
    )


@register.simple_tag
def history_items(inspections) -> SafeString:
    """Each inspection of the judgement history with its judgements, overall last."""
    items = []
    for inspection in inspections:
        rows = [
            _summary_row(j.area, grade_tag(j))
            for j in inspection.judgements.all()
            if not j.is_overall
        ]
        overall = inspection.overall_judgement
        rows.append(
            _summary_row(
                "Overall effectiveness", grade_tag(overall) if overall else "No overall judgement"
            )
        )
        if inspection.outcome:
            rows.append(_summary_row("Outcome", inspection.outcome))
        items.append(
            format_html(
                '<li class="app-history__item">'
                '<h3 class="govuk-heading-s govuk-!-margin-bottom-1">{}</h3>'
                '<p class="govuk-body-s app-secondary-text">{}</p>'
                '<dl class="govuk-summary-list govuk-summary-list--no-border '
                'app-history__judgements">{}</dl></li>',
                inspection_name(inspection),
                _history_dates(inspection),
                _join(rows),
            )
        )
    return _join(items)


@register.simple_tag
def theme_rows(rows) -> SafeString:
    """The rows of the recurring themes table; `rows` as the dashboard view builds them."""
    out = []
    for row in rows:
        item = row["item"]
        raised = [
            format_html("<li>{} {}</li>", _date(_when(i), "Y"), i.get_kind_display())
            for i in row["recent"]
        ]
        if row["earlier"]:
            raised.append(format_html("<li>and {} earlier</li>", row["earlier"]))
        out.append(
            format_html(
                '<tr class="govuk-table__row">'
                '<th scope="row" class="govuk-table__header">{name}</th>'
                '<td class="govuk-table__cell govuk-table__cell--numeric" '
                'data-label="Inspections">{inspections}</td>'
                '<td class="govuk-table__cell" data-label="Raised by">'
                '<ul class="govuk-list govuk-body-s govuk-!-margin-bottom-0">{raised}</ul></td>'
                '<td class="govuk-table__cell govuk-table__cell--numeric" '
                'data-label="Open actions">{open} <span class="govuk-body-s app-block">'
                '<a class="govuk-link" href="{href}">{actions} in all'
                '<span class="govuk-visually-hidden"> actions on {lower}</span></a></span></td>'
                "</tr>",
                name=item.theme.name,
                inspections=len(item.inspections),
                raised=_join(raised),
                open=item.open_actions,
                href=row["href"],
                actions=item.actions,
                lower=item.theme.name.lower(),
            )
        )
    return _join(out)
