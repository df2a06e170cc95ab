"""Printed variants the samples do not all show, read from small report texts."""

# Ofsted reports print typographic apostrophes and dashes, which must be matched literally.

from __future__ import annotations

from datetime import date

from improvement.importer import parse_report
from improvement.importer.parser import UNKNOWN_KIND, parse_fieldwork, split_bodies

SIF_HEAD = """Sometown
Inspection of services for children in need of help and
protection, children looked after and care leavers
and
Review of the effectiveness of the Local Safeguarding Children
Board
Inspection date: {dates}
Report published: 7 April 2017
Children’s services in Sometown require improvement to
be good
1. Children who need help and protection Requires improvement
2. Children looked after and achieving
permanence
Require improvement
2.1 Adoption performance Not judged
2.2 Experiences and progress of care leavers good
3. Leadership, management and governance Requires
improvement
{lscb}
Executive summary
Services are improving.
"""


def sif(body: str, dates: str = "23 January 2017 – 16 February 2017", lscb: str = "") -> str:
    return SIF_HEAD.format(dates=dates, lscb=lscb) + body


def test_split_fieldwork_is_read_as_two_ranges() -> None:
    text = "30 September to 11 October 2024 and 13 to 16 January 2025 Lead inspector: A B"
    assert parse_fieldwork(text) == [
        (date(2024, 9, 30), date(2024, 10, 11)),
        (date(2025, 1, 13), date(2025, 1, 16)),
    ]


def test_numeric_and_single_dates() -> None:
    assert parse_fieldwork("12/09/2016 to 06/10/2016 Report published: 25/11/2016") == [
        (date(2016, 9, 12), date(2016, 10, 6))
    ]
    assert parse_fieldwork("28 July 2016 Report published: 20 September 2016") == [
        (date(2016, 7, 28), date(2016, 7, 28))
    ]
    assert parse_fieldwork("15 – 19 July 2013") == [(date(2013, 7, 15), date(2013, 7, 19))]


def test_split_fieldwork_in_a_report_spans_both_visits() -> None:
    report = parse_report(
        sif("", dates="30 September to 11 October 2024 and 13 to 16 January 2025")
    )
    assert report.start_date == date(2024, 9, 30)
    assert report.end_date == date(2025, 1, 16)
    assert len(report.fieldwork_ranges) == 2


def test_sif_table_variants_and_overall_sentence() -> None:
    report = parse_report(sif("Lead inspector on site: Jane Smith (HMI)\n"))
    assert report.overall_effectiveness == "Requires improvement to be good"
    assert [(j.area, j.grade) for j in report.judgements] == [
        ("Children who need help and protection", "Requires improvement"),
        ("Children looked after and achieving permanence", "Requires improvement"),
        ("Adoption performance", "Not judged"),
        ("Experiences and progress of care leavers", "Good"),
        ("Leadership, management and governance", "Requires improvement"),
    ]
    assert report.lead_inspectors == ["Jane Smith"]
    assert report.publication_date == date(2017, 4, 7)


def test_2014_lscb_sentence_is_a_judgement() -> None:
    lscb = "The judgement for the effectiveness of the LSCB is requires improvement."
    report = parse_report(sif("", lscb=lscb))
    assert ("The effectiveness of the LSCB", "Requires improvement") in [
        (j.area, j.grade) for j in report.judgements
    ]


def test_contents_page_line_is_not_the_heading() -> None:
    body = (
        "Contents\n"
        "What does the local authority need to improve? 6\n"
        "Information about this inspection 12\n"
        "1. Social workers visit children regularly.\n"
        "What does the local authority need to improve?\n"
        "2. Ensure that plans are specific.\n"
        "Information about this inspection\n"
        "3. Inspectors looked at 100 cases.\n"
    )
    report = parse_report(sif(body))
    assert [a.text for a in report.improvement_areas] == ["Ensure that plans are specific."]


def test_more_than_fifteen_items_under_one_heading_is_a_warning() -> None:
    items = "".join(f"{n}. Ensure that thing {n} improves.\n" for n in range(1, 18))
    report = parse_report(sif("Recommendations\n" + items + "Summary\n18. Fine.\n"))
    assert len(report.improvement_areas) == 17
    assert any("17 items were read under “Recommendations”" in w for w in report.warnings)


def test_a_list_section_without_items_is_a_warning() -> None:
    body = "Recommendations\n1. The board demonstrates a culture of challenge.\n"
    report = parse_report(sif(body))
    assert report.improvement_areas == []
    assert any("“Recommendations” has no items" in w for w in report.warnings)


def test_a_missing_judgement_row_is_a_warning() -> None:
    text = sif("").replace("2.1 Adoption performance Not judged\n", "")
    report = parse_report(text)
    assert any("judgement table has 4 rows" in w for w in report.warnings)


def test_a_report_of_an_unknown_kind_is_not_labelled_ilacs() -> None:
    text = (
        "Something new about Sometown\n"
        "Inspection dates: 4 to 8 March 2024\n"
        "Lead inspector: Jane Smith, His Majesty’s Inspector\n"
        "1. Children are safe.\n"
    )
    report = parse_report(text)
    assert report.kind == UNKNOWN_KIND
    assert any("Choose the kind of inspection" in w for w in report.warnings)


def test_a_standalone_lscb_review_is_its_own_kind() -> None:
    text = (
        "Sometown\n"
        "Review of the effectiveness of the Local Safeguarding Children Board\n"
        "Inspection dates: 4 to 8 March 2024\n"
        "Lead inspector: Jane Smith, His Majesty’s Inspector\n"
        "The Local Safeguarding Children Board is good\n"
        "1. The board is effective.\n"
    )
    report = parse_report(text)
    assert report.kind == "lscb_review"


def test_ilacs_what_needs_to_improve_with_a_colon() -> None:
    text = (
        "Inspection of Sometown local authority children’s services\n"
        "Inspection dates: 4 to 15 March 2024\n"
        "Lead inspector: Jane Smith, His Majesty’s Inspector\n"
        "Judgement Grade\n"
        "The impact of leaders on social work practice with children and families. Good\n"
        "Overall effectiveness Good\n"
        "What needs to improve:\n"
        "◼ the quality of plans\n"
        "◼ supervision of social workers.\n"
        "Experiences and progress of children who need help and protection: good\n"
        "1. Children are seen.\n"
    )
    report = parse_report(text)
    assert [a.text for a in report.improvement_areas] == [
        "the quality of plans",
        "supervision of social workers.",
    ]
    assert report.judgements[0].area.endswith("children and families")
    assert report.overall_effectiveness == "Good"
    assert report.paragraphs[0].section.startswith("Experiences and progress of children")


def test_responsible_bodies_are_split_into_organisations() -> None:
    assert split_bodies("Bury Metropolitan Borough Council and NHS Greater Manchester ICB") == [
        "Bury Metropolitan Borough Council",
        "NHS Greater Manchester ICB",
    ]
    assert split_bodies(
        "North Northamptonshire Council, NHS Northamptonshire Integrated Care Board and "
        "Northamptonshire Children’s Trust"
    ) == [
        "North Northamptonshire Council",
        "NHS Northamptonshire Integrated Care Board",
        "Northamptonshire Children’s Trust",
    ]
    # "and" inside an organisation's name does not split it.
    assert split_bodies("NHS Cheshire and Merseyside Integrated Care Board (ICB)") == [
        "NHS Cheshire and Merseyside Integrated Care Board (ICB)"
    ]
