"""The dashboard's repeated rows (bar charts, exception lists, measures, judgement history and
recurring themes), drawn in Python: the same markup the template loops drew, at a fraction of
their cost (a template variable, filter or include per cell was most of the page's render time).

Every value from the data passes through _e, the standard library's escape (the same entities as
Django's escape, without its lazy-string handling, which costs more); the markup around it is
ours. Each tag marks its whole output safe once.
"""

from __future__ import annotations

from html import escape

from django import template
from django.template.defaultfilters import truncatewords
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from improvement.models import Inspection, Judgement, Measure
from improvement.templatetags.action_tags import day

register = template.Library()


def _labels(model, field: str) -> dict:
    # get_FOO_display() builds this dict again on every call.
    return {value: str(label) for value, label in model._meta.get_field(field).flatchoices}


KIND_LABELS = _labels(Inspection, "kind")
GRADE_LABELS = _labels(Judgement, "grade")
DIRECTION_LABELS = _labels(Measure, "direction")

# GOV.UK tag colour of each Ofsted grade.
GRADE_COLOURS = {"outstanding": "turquoise", "good": "green", "inadequate": "red"}


def _e(value) -> str:
    return escape(str(value))


def _safe(html: str) -> SafeString:
    return mark_safe(html)  # noqa: S308 - built here, every data value escaped by _e


def _date(value, pattern: str) -> str:
    # The day filter of action_tags, remembered: themes and history repeat the same few days.
    return day(value, pattern)


def _when(inspection):
    return inspection.start_date or inspection.publication_date


def _year(inspection) -> str:
    """As the date filter's "Y": four digits, empty with no date."""
    when = _when(inspection)
    return f"{when.year:04d}" if when else ""


def _kind(inspection) -> str:
    return KIND_LABELS.get(inspection.kind, inspection.kind)


def _grade(judgement) -> str:
    return GRADE_LABELS.get(judgement.grade, judgement.grade)


@register.simple_tag
def inspection_name(inspection) -> str:
    """An inspection's kind and month, "ILACS standard inspection, October 2021" (not escaped
    here: the template escapes a simple tag's text, and the rows here escape it with _e)."""
    return f"{_kind(inspection)}, {_date(_when(inspection), 'F Y')}"


def _grade_tag(judgement) -> str:
    colour = GRADE_COLOURS.get(judgement.grade, "yellow")
    return (
        f'<strong class="govuk-tag app-grade-tag govuk-tag--{colour}">'
        f"{_e(_grade(judgement))}</strong>"
    )


@register.simple_tag
def grade_tag(judgement) -> SafeString:
    """A judgement's grade as a GOV.UK tag in Ofsted's exact wording, so colour is never the
    only cue: on the dashboard, the inspections list and an inspection's page."""
    return _safe(_grade_tag(judgement))


@register.simple_tag
def bar_chart_rows(rows) -> SafeString:
    """The rows of a bar chart table (templates/improvement/includes/bar_chart.html)."""
    return _safe(
        "\n".join(
            '<tr class="govuk-table__row">'
            f'<th scope="row" class="govuk-table__header app-chart-table__label">'
            f"{_e(row['label'])}</th>"
            '<td class="govuk-table__cell govuk-table__cell--numeric">'
            f'<a class="govuk-link" href="{_e(row["href"])}">{_e(row["count"])}'
            f'<span class="govuk-visually-hidden"> {_e(str(row["label"]).lower())} actions'
            "</span></a></td>"
            '<td class="govuk-table__cell app-chart-table__bar">'
            f'<span class="app-chart-table__percent">{_e(row["percent"])}%</span> '
            '<span class="app-bar" aria-hidden="true"><span class="app-bar__fill '
            f'app-bar__fill--{_e(row["colour"])} app-bar__fill--{_e(row["percent"])}">'
            "</span></span></td></tr>"
            for row in rows
        )
    )


@register.simple_tag
def exception_rows(rows, when_heading: str, days_heading: str) -> SafeString:
    """The rows of an exception list (templates/improvement/includes/exception_table.html)."""
    when_label, days_label = _e(when_heading), _e(days_heading)
    return _safe(
        "\n".join(
            '<tr class="govuk-table__row">'
            '<th scope="row" class="govuk-table__header govuk-!-font-weight-regular">'
            f'<a class="govuk-link" href="{_e(row["href"])}">{_e(row["name"])}</a></th>'
            f'<td class="govuk-table__cell" data-label="Owner">{_e(row["owner"])}</td>'
            f'<td class="govuk-table__cell" data-label="Team">{_e(row["team"])}</td>'
            f'<td class="govuk-table__cell" data-label="{when_label}">{_e(row["when"])}</td>'
            '<td class="govuk-table__cell govuk-table__cell--numeric" '
            f'data-label="{days_label}">{_e(row["days"])}</td></tr>'
            for row in rows
        )
    )


def _where_it_stands(progress) -> str:
    if not progress.has_value:
        return '<strong class="govuk-tag govuk-tag--grey">No value yet</strong>'
    if progress.on_target:
        tag, colour, bar = "On target", "green", "green"
    elif progress.improving:
        tag, colour, bar = "Improving, not on target", "yellow", "amber"
    else:
        tag, colour, bar = "Not improving", "red", "red"
    percent = progress.percent_of_way
    return (
        f'<strong class="govuk-tag govuk-tag--{colour}">{tag}</strong> '
        f'<span class="govuk-body-s app-block">{percent}% of the way from baseline to target'
        '</span> <span class="app-bar" aria-hidden="true"><span class="app-bar__fill '
        f'app-bar__fill--{bar} app-bar__fill--{percent}"></span></span>'
    )


@register.simple_tag
def measure_rows(rows) -> SafeString:
    """The rows of the dashboard's measures table; `rows` as views.dashboard._measure_rows."""
    # One reverse() for the table, each row's link from it.
    href = reverse("improvement:measure-detail", args=[0])[: -len("0/")]
    out = []
    for row in rows:
        measure, progress = row["measure"], row["progress"]
        if progress.has_value:
            latest = (
                f'{_e(row["latest"])}<span class="govuk-body-s app-secondary-text app-block">'
                f"{_e(_date(progress.latest_on, 'j M Y'))}</span>"
            )
        else:
            latest = "No value yet"
        direction = DIRECTION_LABELS.get(measure.direction, measure.direction)
        out.append(
            '<tr class="govuk-table__row"><th scope="row" class="govuk-table__header">'
            f'<a class="govuk-link" href="{href}{measure.pk:d}/">{_e(measure.name)}</a>'
            f'<span class="govuk-body-s app-secondary-text app-block">{_e(direction)}</span></th>'
            f'<td class="govuk-table__cell" data-label="Baseline">{_e(row["baseline"])}'
            '<span class="govuk-body-s app-secondary-text app-block">'
            f"{_e(_date(measure.baseline_date, 'j M Y'))}</span></td>"
            f'<td class="govuk-table__cell" data-label="Latest">{latest}</td>'
            f'<td class="govuk-table__cell" data-label="Target">{_e(row["target"])}'
            '<span class="govuk-body-s app-secondary-text app-block">'
            f"by {_e(_date(measure.target_date, 'j M Y'))}</span></td>"
            '<td class="govuk-table__cell app-measures-table__progress" '
            f'data-label="Where it stands">{_where_it_stands(progress)}</td></tr>'
        )
    return _safe("\n".join(out))


@register.simple_tag
def history_timeline(inspections) -> SafeString:
    """The glance strip of the judgement history (aria-hidden: the list says the same)."""
    items = []
    for inspection in inspections:
        overall = inspection.overall_judgement
        items.append(
            '<li class="app-timeline__item app-timeline__item--'
            f'{_e(overall.grade if overall and overall.grade else "none")}">'
            f'<span class="app-timeline__year">{_e(_date(_when(inspection), "M Y"))}</span>'
            f'<span class="app-timeline__kind">{_e(_kind(inspection))}</span>'
            '<span class="app-timeline__grade">'
            f"{_e(_grade(overall)) if overall else 'No overall judgement'}</span></li>"
        )
    return _safe("\n".join(items))


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


def _summary_row(key: str, value_html: str) -> str:
    return (
        '<div class="govuk-summary-list__row">'
        f'<dt class="govuk-summary-list__key">{_e(key)}</dt>'
        f'<dd class="govuk-summary-list__value">{value_html}</dd></div>'
    )


@register.simple_tag
def history_items(inspections) -> SafeString:
    """Each inspection of the judgement history with its judgements, overall last."""
    items = []
    for inspection in inspections:
        rows = [
            _summary_row(j.area, _grade_tag(j))
            for j in inspection.judgements.all()
            if not j.is_overall
        ]
        overall = inspection.overall_judgement
        rows.append(
            _summary_row(
                "Overall effectiveness",
                _grade_tag(overall) if overall else "No overall judgement",
            )
        )
        if inspection.outcome:
            rows.append(_summary_row("Outcome", _e(inspection.outcome)))
        items.append(
            '<li class="app-history__item">'
            '<h3 class="govuk-heading-s govuk-!-margin-bottom-1">'
            f"{_e(inspection_name(inspection))}</h3>"
            f'<p class="govuk-body-s app-secondary-text">{_e(_history_dates(inspection))}</p>'
            '<dl class="govuk-summary-list govuk-summary-list--no-border '
            f'app-history__judgements">{"".join(rows)}</dl></li>'
        )
    return _safe("\n".join(items))


@register.simple_tag
def theme_rows(rows) -> SafeString:
    """The rows of the recurring themes table; `rows` as the dashboard view builds them."""
    out = []
    for row in rows:
        item = row["item"]
        raised = [f"<li>{_year(i)} {_e(_kind(i))}</li>" for i in row["recent"]]
        if row["earlier"]:
            raised.append(f"<li>and {row['earlier']:d} earlier</li>")
        name = item.theme.name
        out.append(
            '<tr class="govuk-table__row">'
            f'<th scope="row" class="govuk-table__header">{_e(name)}</th>'
            '<td class="govuk-table__cell govuk-table__cell--numeric" '
            f'data-label="Inspections">{len(item.inspections):d}</td>'
            '<td class="govuk-table__cell" data-label="Raised by">'
            f'<ul class="govuk-list govuk-body-s govuk-!-margin-bottom-0">{"".join(raised)}</ul>'
            "</td>"
            '<td class="govuk-table__cell govuk-table__cell--numeric" data-label="Open actions">'
            f'{item.open_actions:d} <span class="govuk-body-s app-block">'
            f'<a class="govuk-link" href="{_e(row["href"])}">{item.actions:d} in all'
            f'<span class="govuk-visually-hidden"> actions on {_e(name.lower())}</span></a>'
            "</span></td></tr>"
        )
    return _safe("\n".join(out))


@register.simple_tag
def unsent_plan_items(rows) -> SafeString:
    """Each earlier inspection whose plan is not recorded as sent, with where its clock stands;
    `rows` as views.dashboard._clock's "unsent"."""
    # One reverse() for the list, each item's link from it.
    href = reverse("improvement:inspection-detail", args=[0])[: -len("0/")]
    items = []
    for row in rows:
        inspection, clock = row["inspection"], row["clock"]
        status = clock.final.status if clock.is_running else clock.not_started_reason.lower()
        items.append(
            f'<li><a class="govuk-link" href="{href}{inspection.pk:d}/#clock">'
            f"{_e(inspection_name(inspection))}</a>: {_e(status)}</li>"
        )
    return _safe("\n".join(items))


@register.simple_tag
def gap_area_items(gaps) -> SafeString:
    """The improvement areas of one inspection that no action answers (selectors PlanGaps)."""
    href = escape(gaps.inspection.get_absolute_url())
    items = []
    for area in gaps.areas_without_action:
        priority = (
            '<strong class="govuk-tag govuk-tag--red">Area for priority action</strong> '
            if area.is_priority_action
            else ""
        )
        tag = f" ({_e(area.framework_tag)})" if area.framework_tag else ""
        items.append(
            f'<li>{priority}<a class="govuk-link" href="{href}?area={area.pk:d}#area-{area.pk:d}">'
            f"{_e(area.text)}</a>{tag}</li>"
        )
    return _safe("\n".join(items))


@register.simple_tag
def gap_finding_items(gaps) -> SafeString:
    """The report paragraphs of one inspection behind no action, each cut to 40 words."""
    href = escape(gaps.inspection.get_absolute_url())
    items = []
    for finding in gaps.findings_without_action:
        section = f" ({_e(finding.section)})" if finding.section else ""
        items.append(
            '<li><a class="govuk-link govuk-!-font-weight-bold" '
            f'href="{href}#finding-{finding.number:d}">Paragraph {finding.number:d}</a>'
            f"{section}: {_e(truncatewords(finding.text, 40))}</li>"
        )
    return _safe("\n".join(items))
