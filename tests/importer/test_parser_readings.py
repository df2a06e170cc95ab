"""Each Ofsted sample read as it is printed, checked field by field.

The expected readings below were written by hand from reading each report (its PDF and the
text pypdfium2 extracts from it), not copied from the parser: kind, fieldwork ranges,
publication date where printed, lead inspector(s), judgements, overall judgement (for area SEND
the outcome sentence's first words), each improvement area and priority action by its first
words, the responsible bodies of each priority action, and the warnings a reader should see.
The samples live in tests/importer/samples (README.md there says what each one shows).
"""

# Ofsted reports print typographic apostrophes and dashes, which must be matched literally.

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from improvement.importer import parse_file

SAMPLES = Path(__file__).resolve().parent / "samples"
FIELDS = (
    "kind",
    "authority",
    "fieldwork",
    "published",
    "leads",
    "judgements",
    "overall",
    "areas",
    "priority",
    "warnings",
)


def _words(text: str | None, count: int = 6) -> str:
    return " ".join((text or "").split()[:count])


@cache
def reading(name: str) -> dict[str, Any]:
    """The parser's reading of a sample in the shape of EXPECTED."""
    report = parse_file(SAMPLES / name, in_process=True).to_dict()
    send = report["kind"] == "send_area"
    return {
        "kind": report["kind"],
        "authority": report["authority"],
        "fieldwork": [tuple(pair) for pair in report["fieldwork_ranges"]],
        "published": report["publication_date"],
        "leads": report["lead_inspectors"],
        "judgements": [(j["area"], j["grade"]) for j in report["judgements"]],
        "overall": _words(report["overall_effectiveness"], 10)
        if send
        else report["overall_effectiveness"],
        "areas": [_words(a["text"]) for a in report["improvement_areas"]],
        "priority": [
            (_words(p["text"]), p["responsible_bodies"]) for p in report["priority_actions"]
        ],
        "warnings": report["warnings"],
    }


EXPECTED: dict[str, dict[str, Any]] = {
    "bedford-send-area-2025.pdf": {
        "kind": "send_area",
        "authority": "Bedford Borough",
        "fieldwork": [("2024-11-18", "2024-11-22")],
        "published": None,
        "leads": ["Charlie Fordham", "Tessa Valpy"],
        "judgements": [],
        "overall": "The local area partnership’s special educational "
        "needs and/or disabilities (SEND)",
        "areas": [
            "The partnership should establish more effective",
            "Some children and young people with",
        ],
        "priority": [],
        "warnings": [],
    },
    "bedford-sif-2017.pdf": {
        "kind": "sif",
        "authority": "Bedford Borough",
        "fieldwork": [("2017-01-23", "2017-02-16")],
        "published": "2017-04-07",
        "leads": ["Donna Marriott"],
        "judgements": [
            ("Children who need help and protection", "Requires improvement"),
            ("Children looked after and achieving permanence", "Requires improvement"),
            ("Adoption performance", "Good"),
            ("Experiences and progress of care leavers", "Good"),
            ("Leadership, management and governance", "Requires improvement"),
            ("The Local Safeguarding Children Board", "Good"),
        ],
        "overall": "Requires improvement to be good",
        "areas": [
            "Ensure that all work with children",
            "When children go missing from home",
            "Create and sustain a supervision offer",
            "Ensure that children’s views are fully",
            "Improve the quality of plans for",
            "Ensure that children looked after and",
            "Ensure that effective systems are in",
            "Ensure that later life letters provide",
            "Ensure that children looked after receive",
            "Strengthen arrangements to identify and respond",
            "Ensure rigorous analysis of performance information",
            "Ensure that action plans arising from",
        ],
        "priority": [],
        "warnings": [],
    },
    "bradford-ilacs-2018.pdf": {
        "kind": "ilacs_standard",
        "authority": "Bradford",
        "fieldwork": [("2018-09-17", "2018-09-28")],
        "published": None,
        "leads": ["Neil Penswick"],
        "judgements": [
            (
                "The impact of leaders on social work practice with children and families",
                "Requires improvement to be good",
            ),
            ("The experiences and progress of children who need help and protection", "Inadequate"),
            (
                "The experiences and progress of children in care and care leavers",
                "Requires improvement to be good",
            ),
        ],
        "overall": "Inadequate",
        "areas": [
            "the identification and response to risk,",
            "clarity about what change is needed",
            "the prioritisation and timely, proportionate response",
            "social work practice, including the quality",
            "multi-agency child protection work, including strategy",
            "the response to children with specific",
            "sufficiency of local placements to meet",
            "the provision of life-story work for",
            "completion of mandatory training for all",
            "supervision of social work staff, which",
        ],
        "priority": [],
        "warnings": [],
    },
    "bury-send-area-2024.pdf": {
        "kind": "send_area",
        "authority": "Bury",
        "fieldwork": [("2024-02-12", "2024-02-16")],
        "published": None,
        "leads": ["Adam Sproston", "Kaye Goodfellow"],
        "judgements": [],
        "overall": "There are widespread and/or systemic failings leading to significant concerns",
        "areas": [
            "Leaders across the partnership should improve",
            "Leaders across the partnership should continue",
            "Leaders across the partnership should work",
        ],
        "priority": [
            (
                "Leaders across the partnership should ensure",
                ["Bury Metropolitan Borough Council", "NHS Greater Manchester ICB"],
            ),
            (
                "Leaders across the partnership should work",
                ["Bury Metropolitan Borough Council", "NHS Greater Manchester ICB"],
            ),
            (
                "Leaders across the partnership should improve",
                ["Bury Metropolitan Borough Council", "NHS Greater Manchester ICB"],
            ),
            (
                "Leaders across the partnership should improve",
                ["Bury Metropolitan Borough Council", "NHS Greater Manchester ICB"],
            ),
            (
                "Leaders across the partnership should establish",
                ["Bury Metropolitan Borough Council", "NHS Greater Manchester ICB"],
            ),
            (
                "Leaders across the partnership should further",
                ["Bury Metropolitan Borough Council", "NHS Greater Manchester ICB"],
            ),
        ],
        "warnings": [],
    },
    "cheshire-east-ilacs-2020.pdf": {
        "kind": "ilacs_standard",
        "authority": "Cheshire East",
        "fieldwork": [("2019-11-18", "2019-11-29")],
        "published": None,
        "leads": ["Shabana Abasi"],
        "judgements": [
            (
                "The impact of leaders on social work practice with children and families",
                "Requires improvement to be good",
            ),
            (
                "The experiences and progress of children who need help and protection",
                "Requires improvement to be good",
            ),
            (
                "The experiences and progress of children in care and care leavers",
                "Requires improvement to be good",
            ),
        ],
        "overall": "Requires improvement to be good",
        "areas": [
            "The quality, consistency and analysis of",
            "Management oversight of cases in pre-proceedings,",
            "The response to children in private",
            "The quality and consistency of support",
            "Consistent management oversight and supervision in",
        ],
        "priority": [],
        "warnings": [],
    },
    "city-of-london-sif-2016.pdf": {
        "kind": "sif",
        "authority": "City of London",
        "fieldwork": [("2016-07-28", "2016-07-28")],
        "published": "2016-09-20",
        "leads": ["Stephanie Murray"],
        "judgements": [
            ("Children who need help and protection", "Good"),
            ("Children looked after and achieving permanence", "Good"),
            ("Adoption performance", "Not judged"),
            ("Experiences and progress of care leavers", "Good"),
            ("Leadership, management and governance", "Outstanding"),
            ("The Local Safeguarding Children Board", "Outstanding"),
        ],
        "overall": "Good",
        "areas": [
            "Further improve the quality and consistency",
            "When families disengage from services and",
            "Ensure that permanency planning records include",
            "Expedite the provision of health histories",
            "Increase opportunities for direct contact between",
            "Strengthen the inclusion of the perspective",
            "Take steps to engage with children",
        ],
        "priority": [],
        "warnings": [],
    },
    "cornwall-send-area-2023.pdf": {
        "kind": "send_area",
        "authority": "Cornwall",
        "fieldwork": [("2023-02-06", "2023-02-10")],
        "published": None,
        "leads": ["Leanne Thirlby", "Tessa Valpy"],
        "judgements": [],
        "overall": "The local area partnership’s arrangements lead to inconsistent experiences and",
        "areas": [
            "Leaders across the partnership need to",
            "Leaders across the partnership should continue",
            "Leaders across the partnership must improve",
            "Leaders across the partnership should establish",
            "Leaders across the partnership should improve",
        ],
        "priority": [],
        "warnings": [],
    },
    "hounslow-send-area-2024.pdf": {
        "kind": "send_area",
        "authority": "Hounslow",
        "fieldwork": [("2024-10-21", "2024-10-25")],
        "published": None,
        "leads": ["Sam Hainey", "Deana Fowle"],
        "judgements": [],
        "overall": "The local area partnership’s arrangements lead to inconsistent experiences and",
        "areas": [
            "Leaders across the partnership need to",
            "Leaders across the partnership need to",
            "Leaders should develop more coherent strategies",
            "Leaders across the partnership need to",
            "Leaders in health and other commissioners",
        ],
        "priority": [],
        "warnings": [],
    },
    "kent-lac-inspection-2013.pdf": {
        "kind": "lac_2013",
        "authority": "Kent",
        "fieldwork": [("2013-07-15", "2013-07-19")],
        "published": "2013-08-23",
        "leads": ["Helen Cawston"],
        "judgements": [
            ("Capacity to improve", "Good"),
            ("Outcomes for looked after children and young people", "Adequate"),
            ("Quality of provision", "Adequate"),
            ("Leadership and management", "Adequate"),
        ],
        "overall": "Adequate",
        "areas": [
            "improve the quality of supervision and",
            "improve the quality of assessments and",
            "ensure that the voice of the",
            "improve looked after children’s participation in",
            "increase looked after children’s participation in",
            "ensure that all children and young",
            "review the 16+ service to ensure",
            "risk assess all bed and breakfast",
            "improve the timeliness of care proceedings.",
            "ensure that there are sufficient placements",
            "ensure there is sufficient and suitable",
            "review the arrangements for the independent",
        ],
        "priority": [],
        "warnings": [],
    },
    "lewisham-ilacs-2024.pdf": {
        "kind": "ilacs_standard",
        "authority": "Lewisham",
        "fieldwork": [("2023-12-04", "2023-12-15")],
        "published": None,
        "leads": ["Nicki Shaw"],
        "judgements": [
            ("The impact of leaders on social work practice with children and families", "Good"),
            ("The experiences and progress of children who need help and protection", "Good"),
            ("The experiences and progress of children in care", "Good"),
            ("The experiences and progress of care leavers", "Good"),
        ],
        "overall": "Good",
        "areas": [
            "Tracking arrangements for children who are",
            "Oversight arrangements to progress permanence for",
            "Assessments to support decisions when children",
            "Personal advisers’ (PAs) understanding of the",
        ],
        "priority": [],
        "warnings": [],
    },
    "north-northamptonshire-send-area-2024.pdf": {
        "kind": "send_area",
        "authority": "North Northamptonshire",
        "fieldwork": [("2024-01-22", "2024-01-26")],
        "published": None,
        "leads": ["Dave Gilkerson", "David Roberts"],
        "judgements": [],
        "overall": "There are widespread and/or systemic failings leading to significant concerns",
        "areas": [
            "Leaders across the partnership should continue",
            "Leaders across the partnership need to",
            "Leaders across the partnership need to",
            "Leaders from the local authority need",
            "Leaders from the local authority need",
            "Leaders across the partnership need to",
        ],
        "priority": [
            (
                "Leaders across the partnership need to",
                [
                    "North Northamptonshire Council",
                    "NHS Northamptonshire Integrated Care Board",
                    "Northamptonshire Children’s Trust",
                ],
            ),
            (
                "Leaders across the partnership need to",
                [
                    "North Northamptonshire Council",
                    "NHS Northamptonshire Integrated Care Board",
                    "Northamptonshire Children’s Trust",
                ],
            ),
            (
                "Leaders across the partnership must put",
                [
                    "North Northamptonshire Council",
                    "NHS Northamptonshire Integrated Care Board",
                    "Northamptonshire Children’s Trust",
                ],
            ),
            (
                "Leaders across the partnership need to",
                [
                    "North Northamptonshire Council",
                    "NHS Northamptonshire Integrated Care Board",
                    "Northamptonshire Children’s Trust",
                ],
            ),
        ],
        "warnings": [],
    },
    "nottingham-sif-2014.pdf": {
        "kind": "sif",
        "authority": "Nottingham",
        "fieldwork": [("2014-03-11", "2014-04-02")],
        "published": "2014-05-14",
        "leads": ["Sheena Doyle"],
        "judgements": [
            ("Children who need help and protection", "Requires improvement"),
            ("Children looked after and achieving permanence", "Requires improvement"),
            ("Adoption performance", "Requires improvement"),
            ("Experiences and progress of care leavers", "Requires improvement"),
            ("Leadership, management and governance", "Requires improvement"),
            (
                "The effectiveness of the Local Safeguarding Children Board (LSCB)",
                "Requires improvement",
            ),
        ],
        "overall": "Requires improvement",
        "areas": [
            "Ensure that there is sufficient capacity",
            "Ensure that all social workers receive",
            "Ensure that all newly qualified social",
            "Ensure that the electronic recording system",
            "Ensure that there is sufficient business",
            "Develop a child-focused approach to care",
            "Clarify which circumstances should lead to",
            "Develop a quality assurance process for",
            "Ensure that IROs/child protection co-ordinators have",
            "Improve the quality of written records",
            "Improve the quality of care plans",
            "Improve arrangements for those children who",
            "Ensure that there is an effective",
            "Ensure that carers and providers are",
            "When plans are made for children",
            "Ensure that children and young people",
            "Increase the range of local authority",
            "Ensure that foster carers’ files contain",
            "Ensure that concurrent and parallel planning",
            "Ensure that family finding for children",
            "Ensure that the needs of all",
            "Develop and embed the arrangements for",
            "Increase the number of care leavers",
            "Ensure that all care leavers are",
            "Ensure that service and business plans",
            "Develop a comprehensive performance management and",
            "Ensure that the Family Support Pathway",
            "Ensure that the 2014–15 Nottingham City",
            "Monitor the intervention of adult services",
            "Ensure that the Board hears the",
            "Monitor the robustness of evaluation that",
            "Ensure that elected members are able",
        ],
        "priority": [],
        "warnings": [
            "26 items were read under “Areas for improvement”, "
            "more than reports usually have: check that no finding "
            "was taken for an item."
        ],
    },
    "redbridge-sif-2016.pdf": {
        "kind": "sif",
        "authority": "Redbridge",
        "fieldwork": [("2016-09-12", "2016-10-06")],
        "published": "2016-11-25",
        "leads": ["Louise Hocking"],
        "judgements": [
            ("Children who need help and protection", "Good"),
            ("Children looked after and achieving permanence", "Good"),
            ("Adoption performance", "Good"),
            ("Experiences and progress of care leavers", "Requires improvement"),
            ("Leadership, management and governance", "Good"),
            ("The Local Safeguarding Children Board", "Good"),
        ],
        "overall": "Good",
        "areas": [
            "Strengthen the quality and impact of",
            "Ensure that cultural characteristics that affect",
            "Prioritise the recruitment of independent visitors",
            "Ensure that there is no delay",
            "Ensure that life-story books of high",
            "Strengthen service and action plans to",
            "Ensure that performance management information is",
            "Ensure that data on missing children",
            "Ensure that the care leavers’ service",
        ],
        "priority": [],
        "warnings": [
            "The section “Recommendations” has no items: check the "
            "report, the items may be printed as an image or in an "
            "unusual layout."
        ],
    },
    "worcestershire-sif-2017.pdf": {
        "kind": "sif",
        "authority": "Worcestershire",
        "fieldwork": [("2016-10-24", "2016-11-17")],
        "published": "2017-01-24",
        "leads": ["Jenny Turnross"],
        "judgements": [
            ("Children who need help and protection", "Inadequate"),
            ("Children looked after and achieving permanence", "Inadequate"),
            ("Adoption performance", "Requires improvement"),
            ("Experiences and progress of care leavers", "Inadequate"),
            ("Leadership, management and governance", "Inadequate"),
            ("The Local Safeguarding Children Board", "Requires improvement"),
        ],
        "overall": "Inadequate",
        "areas": [
            "Ensure that elected members and senior",
            "Implement the workforce strategy as swiftly",
            "Ensure that children’s services staff and",
            "Strengthen children’s voices by ensuring that",
            "Ensure that the management oversight and",
            "Complete a thorough review of all",
            "The local authority should assure itself",
            "Improve the quality of assessments and",
            "Ensure that strategy discussions include all",
            "Improve the timeliness of health assessments",
            "Ensure that social workers and managers",
            "Review the response to privately fostered",
            "Improve the service to care leavers",
            "Ensure that effective performance management and",
            "The board should ensure that there",
            "The board should strengthen its oversight",
            "The board should strengthen its case",
            "The board should ensure rigorous monitoring",
        ],
        "priority": [],
        "warnings": [],
    },
}


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_field_is_read_as_printed(name: str, field: str) -> None:
    assert reading(name)[field] == EXPECTED[name][field]


def test_every_sample_in_the_folder_has_an_expected_reading() -> None:
    from tests.importer.test_parser_samples import SAMPLE_FILES

    pdfs = {path.name for path in SAMPLES.glob("*.pdf")}
    assert pdfs == set(EXPECTED) | set(SAMPLE_FILES)


def test_priority_action_keeps_its_bullets_inside_one_action() -> None:
    """Bury: a bulleted cell is one action, its bullets inside it, and no body spills in."""
    report = parse_file(SAMPLES / "bury-send-area-2024.pdf", in_process=True)
    second = report.priority_actions[1].text
    assert "In particular, they should urgently improve: • children’s access" in second
    assert second.endswith("well-resourced educational psychology service.")
    # The row continued over a page break keeps its last bullet and closing sentence.
    third = report.priority_actions[2].text
    assert "• children and young people on a neurodevelopmental pathway" in third
    assert third.endswith("locally agreed neurodevelopmental diagnostic pathway.")
    for action in report.priority_actions:
        assert "Bury Metropolitan" not in action.text
        assert action.responsible_body == (
            "Bury Metropolitan Borough Council and NHS Greater Manchester ICB"
        )


def test_send_area_for_improvement_keeps_its_bullets() -> None:
    report = parse_file(SAMPLES / "hounslow-send-area-2024.pdf", in_process=True)
    first = report.improvement_areas[0].text
    assert first.startswith("Leaders across the partnership need to develop and implement")
    assert "focus on: • developing a cohesive approach to genuine co-production • ensuring" in first


@pytest.mark.parametrize(
    "name", ["bury-send-area-2024.pdf", "north-northamptonshire-send-area-2024.pdf"]
)
def test_pasted_text_of_a_priority_table_reads_like_the_positioned_table(name: str) -> None:
    """Without positions (pasted text) the cells are still told apart, body before action."""
    from improvement.importer.parser import parse_report
    from improvement.importer.pdf import extract

    extracted = extract((SAMPLES / name).read_bytes(), in_process=True)
    from_text = parse_report(extracted.text)
    from_table = parse_report(extracted.text, table_rows=extracted.table_rows)
    assert [(p.text, p.responsible_bodies) for p in from_text.priority_actions] == [
        (p.text, p.responsible_bodies) for p in from_table.priority_actions
    ]
