"""Parser rules exercised on small texts written in Ofsted's documented wording.

The real samples cover ILACS, SIF 2017 and area SEND 2024; these texts cover the wording
DOMAIN.md documents for kinds without a sample (letters, 2014 SIF, SEND priority tables). They
are synthetic: they check the rules, not the layout of real PDFs of those kinds.
"""

# Ofsted reports print typographic apostrophes and dashes, which must be matched literally.

from __future__ import annotations

from datetime import date

import pytest

from improvement.importer import match_authority, parse_report, suggest_themes
from improvement.importer.parser import framework_tag_key
from improvement.importer.themes import THEME_SLUGS, THEMES

FOCUSED_VISIT = """\
Focused visit to Stockton-on-Tees children’s services

Dear Ms Smith

This letter summarises the findings of the focused visit to Stockton-on-Tees children’s
services on 13 and 14 September 2022. His Majesty’s Inspectors for this visit were Jo Bloggs
and Sam Smith.

Areas covered by the visit
Inspectors evaluated the arrangements for children in need.

Headline findings
Children wait too long for help.

What needs to improve in this area of social work practice?
◼ The quality of assessments for children in need.
◼ Management oversight of child in need plans.

Areas for priority action
◼ Leaders must ensure that children at risk of harm are seen promptly.

Main findings
Most children are seen regularly.

Yours sincerely

Jo Bloggs
His Majesty’s Inspector
"""

MONITORING_VISIT = """\
Monitoring visit to Bournemouth, Christchurch and Poole children’s services

This letter summarises the findings of the monitoring visit to Bournemouth, Christchurch and
Poole children’s services on 4 and 5 October 2022. This was the second monitoring visit since
the local authority was judged inadequate in December 2021. His Majesty’s Inspectors for this
visit were Jo Bloggs and Sam Smith.

Areas covered by the visit
Inspectors reviewed the progress made in the areas of concern identified at the last inspection.
"""

SIF_2014 = """\
Knowsley
Inspection of services for children in need of help and protection, children looked after and
care leavers
and
Review of the effectiveness of the Local Safeguarding Children Board
Inspection date: 29 April 2014 – 21 May 2014
Report published: 30 June 2014
The overall judgement is inadequate
1. Children who need help and protection Inadequate
2. Children looked after and achieving permanence Requires improvement
2.1 Adoption performance Inadequate
2.2 Experiences and progress of care leavers Requires improvement
3. Leadership, management and governance Inadequate
The effectiveness of the Local Safeguarding Children Board is inadequate
What does the local authority need to improve?
Priority and immediate action
1. Ensure that all children at risk of significant harm are protected.
2. Ensure that managers oversee plans.
Areas for improvement
3. Improve the timeliness of adoption.
The inspection team
Lead inspector: Robert Hackeson HMI
"""

SEND_PRIORITY = """\
Area SEND inspection of Leicestershire Local Area Partnership
Inspection dates: 6 to 10 November 2023
Inspection outcome
There are widespread and/or systemic failings leading to significant concerns about the
experiences and outcomes of children and young people with SEND.
Areas for priority action
Responsible body Areas for priority action
Leicestershire County Council and NHS Leicester, Leicestershire and Rutland ICB
Leaders across the partnership should urgently improve the timeliness of EHC plans.
Leicestershire County Council Leaders should improve the quality of the local offer.
Areas for improvement
Areas for improvement
Leaders should improve communication with families.
Inspection team
Ofsted Care Quality Commission
Jo Bloggs, Ofsted HMI Lead inspector Sam Smith, CQC Lead inspector
"""


def test_focused_visit_letter() -> None:
    """A focused visit letter gives dates, improvement items and priority actions, no grades."""
    report = parse_report(FOCUSED_VISIT)
    assert report.kind == "focused_visit"
    assert report.authority == "Stockton-on-Tees"
    assert (report.start_date, report.end_date) == (date(2022, 9, 13), date(2022, 9, 14))
    assert report.lead_inspectors == ["Jo Bloggs"]
    assert report.judgements == []
    assert report.overall_effectiveness is None
    assert [a.text for a in report.improvement_areas] == [
        "The quality of assessments for children in need.",
        "Management oversight of child in need plans.",
    ]
    assert [(p.text, p.responsible_body) for p in report.priority_actions] == [
        ("Leaders must ensure that children at risk of harm are seen promptly.", None)
    ]
    assert report.paragraphs == []
    assert report.warnings == []


def test_monitoring_visit_letter() -> None:
    """A monitoring visit letter is recognised and its inspectors listed, with a warning."""
    report = parse_report(MONITORING_VISIT)
    assert report.kind == "monitoring_visit"
    assert report.authority == "Bournemouth, Christchurch and Poole"
    assert (report.start_date, report.end_date) == (date(2022, 10, 4), date(2022, 10, 5))
    assert report.lead_inspectors == ["Jo Bloggs", "Sam Smith"]
    assert any("lead inspector" in w.lower() for w in report.warnings)


def test_sif_2014_wording() -> None:
    """2014 SIF: sentence overall, sub-judgements, LSCB row, priority and improvement lists."""
    report = parse_report(SIF_2014)
    assert report.kind == "sif"
    assert report.publication_date == date(2014, 6, 30)
    assert report.overall_effectiveness == "Inadequate"
    assert [(j.area, j.grade) for j in report.judgements] == [
        ("Children who need help and protection", "Inadequate"),
        ("Children looked after and achieving permanence", "Requires improvement"),
        ("Adoption performance", "Inadequate"),
        ("Experiences and progress of care leavers", "Requires improvement"),
        ("Leadership, management and governance", "Inadequate"),
        ("The effectiveness of the Local Safeguarding Children Board", "Inadequate"),
    ]
    assert [(p.text, p.responsible_body) for p in report.priority_actions] == [
        ("Ensure that all children at risk of significant harm are protected.", None),
        ("Ensure that managers oversee plans.", None),
    ]
    assert [a.text for a in report.improvement_areas] == ["Improve the timeliness of adoption."]
    assert [p.number for p in report.paragraphs] == [1, 2, 3]
    assert report.paragraphs[0].section == "Priority and immediate action"
    assert report.lead_inspectors == ["Robert Hackeson"]


def test_sif_reinspection_title() -> None:
    """The re-inspection title selects the SIF re-inspection kind."""
    text = SIF_2014.replace("Inspection of services", "Re-inspection of services", 1)
    assert parse_report(text).kind == "sif_reinspection"


def test_send_priority_action_table() -> None:
    """SEND priority actions keep their responsible body; the outcome sentence is kept."""
    report = parse_report(SEND_PRIORITY)
    assert report.kind == "send_area"
    assert report.authority == "Leicestershire"
    assert report.overall_effectiveness == (
        "There are widespread and/or systemic failings leading to significant concerns about "
        "the experiences and outcomes of children and young people with SEND."
    )
    assert [(p.responsible_body, p.text) for p in report.priority_actions] == [
        (
            "Leicestershire County Council and NHS Leicester, Leicestershire and Rutland ICB",
            "Leaders across the partnership should urgently improve the timeliness of EHC plans.",
        ),
        (
            "Leicestershire County Council",
            "Leaders should improve the quality of the local offer.",
        ),
    ]
    assert [a.text for a in report.improvement_areas] == [
        "Leaders should improve communication with families."
    ]
    assert report.lead_inspectors == ["Jo Bloggs", "Sam Smith"]


@pytest.mark.parametrize(
    ("item", "text", "tag"),
    [
        (
            "◼ The quality of plans. (Outcome 4, national framework)",
            "The quality of plans.",
            "Outcome 4, national framework",
        ),
        ("◼ The quality of plans (Enabler two).", "The quality of plans.", "Enabler two"),
        ("◼ The quality of plans (Principle 1)", "The quality of plans", "Principle 1"),
        ("◼ The quality of plans (including pathway plans).", None, None),
    ],
)
def test_framework_tags_are_split_from_items(item: str, text: str | None, tag: str | None) -> None:
    """National Framework tags move to framework_tag; other brackets stay in the text."""
    report = parse_report(
        "Inspection of Dorset local authority children’s services\n"
        "Inspection dates: 17 to 21 March 2025\n"
        "What needs to improve?1\n" + item + "\n"
    )
    expected_text = text if text is not None else item.removeprefix("◼ ")
    assert [(a.text, a.framework_tag) for a in report.improvement_areas] == [(expected_text, tag)]


def test_joint_lead_inspectors() -> None:
    """Joint leads are both listed."""
    report = parse_report(
        "Inspection of Stoke-on-Trent local authority children’s services\n"
        "Inspection dates: 7 to 18 November 2022\n"
        "Lead inspectors: Jo Bloggs, His Majesty’s Inspector, and Sam Smith, His Majesty’s "
        "Inspector\n"
    )
    assert report.lead_inspectors == ["Jo Bloggs", "Sam Smith"]
    assert report.kind == "ilacs_standard"


def test_paragraph_gap_is_warned() -> None:
    """A missing paragraph number is reported, not silently accepted."""
    report = parse_report(
        "Inspection of Dorset local authority children’s services\n"
        "Inspection dates: 17 to 21 March 2025\n"
        "The experiences and progress of care leavers: good\n"
        "1. First finding.\n"
        "3. Third finding.\n"
    )
    assert [p.number for p in report.paragraphs] == [1, 3]
    assert any("jumps from 1 to 3" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("printed", "ons"),
    [
        ("Knowsley Council", "Knowsley"),
        ("Knowsley Metropolitan Borough Council", "Knowsley"),
        ("London Borough of Havering", "Havering"),
        ("Devon County Council", "Devon"),
        ("Portsmouth City", "Portsmouth"),
        ("Dorset Local Area Partnership", "Dorset"),
        ("Bristol City Council", "Bristol, City of"),
        ("Hull City Council", "Kingston Upon Hull, City of"),
        ("St Helens", "St. Helens"),
        ("Brighton & Hove City Council", "Brighton and Hove"),
        ("Royal Borough of Windsor and Maidenhead", "Windsor and Maidenhead"),
        ("Telford & Wrekin Council", "Telford and Wrekin"),
        ("BCP Council", "Bournemouth, Christchurch and Poole"),
        ("City of London", "City of London"),
        ("County Durham", "Durham"),
    ],
)
def test_match_authority(printed: str, ons: str) -> None:
    """Printed council names match their ONS names."""
    from improvement.importer.authorities import ons_authority_names

    names = ons_authority_names() or (ons,)
    assert match_authority(printed, names) == ons


def test_match_authority_refuses_ambiguous_or_unknown_names() -> None:
    """Ambiguous or unknown names give None rather than a guess."""
    names = ["Kingston upon Thames", "Kingston Upon Hull, City of", "Devon"]
    assert match_authority("Kingston", names) is None
    assert match_authority("Atlantis Council", names) is None
    assert match_authority("", names) is None


def test_framework_tag_key() -> None:
    """Printed tags normalise to a comparable key."""
    assert framework_tag_key("Outcome four, National Framework") == "Outcome 4"
    assert framework_tag_key("outcome 1, national framework") == "Outcome 1"
    assert framework_tag_key("Enabler two") == "Enabler 2"
    assert framework_tag_key("including pathway plans") is None


def test_theme_taxonomy_and_suggestions() -> None:
    """The taxonomy is the product's 18 slugs and keyword rules map text to them."""
    assert len(THEMES) == 18 == len(THEME_SLUGS)
    assert suggest_themes("The response to children who present as homeless.") == ["homeless-16-17"]
    assert "send" not in suggest_themes("Leaders send letters to families.")
    assert "front-door" in suggest_themes("Decisions in the MASH are timely.")
    assert suggest_themes("") == []
