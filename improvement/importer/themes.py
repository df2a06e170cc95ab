"""The product's theme taxonomy and keyword rules that suggest themes for report text.

Suggestions are a starting point for a person to confirm, so the rules favour recall: a theme
is suggested when any of its phrases appears. Phrases are matched case-insensitively on word
boundaries.
"""

# Ofsted reports print typographic apostrophes and dashes, which must be matched literally.

from __future__ import annotations

import re

# The single source of the theme taxonomy: (slug, display name), in display order.
THEMES: list[tuple[str, str]] = [
    ("domestic-abuse", "Domestic abuse"),
    ("management-oversight", "Management oversight"),
    ("care-leavers", "Care leavers"),
    ("private-fostering", "Private fostering"),
    ("homeless-16-17", "Homeless 16 and 17 year olds"),
    ("transition-to-adult-services", "Transition to adult services"),
    ("assessment-and-planning", "Assessment and planning"),
    ("audit-and-quality-assurance", "Audit and quality assurance"),
    ("workforce", "Workforce"),
    ("send", "Special educational needs and disabilities"),
    ("exploitation", "Exploitation and missing children"),
    ("early-help", "Early help"),
    ("front-door", "Front door"),
    ("permanence-and-adoption", "Permanence and adoption"),
    ("children-in-care", "Children in care"),
    ("voice-of-the-child", "Voice of the child"),
    ("corporate-parenting", "Corporate parenting"),
    ("partnership-working", "Partnership working"),
]

THEME_SLUGS: frozenset[str] = frozenset(slug for slug, _ in THEMES)

_APOS = "['’]"

_RULES: dict[str, list[str]] = {
    "domestic-abuse": [r"domestic (?:abuse|violence)", r"coercive control", r"MARAC"],
    "management-oversight": [
        r"management oversight",
        r"managerial oversight",
        r"oversight (?:of|by) (?:frontline |front-line )?(?:practice|managers)",
        r"supervision",
        r"managers? (?:do|does) not",
    ],
    "care-leavers": [
        r"care leavers?",
        r"care[- ]experienced",
        r"leaving care",
        r"pathway plan(?:s|ning)?",
        r"personal advisers?",
    ],
    "private-fostering": [r"private(?:ly)? fost(?:ering|ered)"],
    "homeless-16-17": [r"homeless(?:ness)?", r"16 and 17"],
    "transition-to-adult-services": [
        r"adult(?:s)? services",
        r"preparation for adulthood",
        r"transition(?:s|ing)? (?:in)?to adult(?:hood)?",
        r"adult social care",
    ],
    "assessment-and-planning": [
        r"assessments?",
        r"plans?",
        r"planning",
        r"pre-proceedings",
        r"public law outline",
    ],
    "audit-and-quality-assurance": [
        r"audits?",
        r"auditing",
        r"quality assurance",
        r"self-evaluation",
        r"performance (?:information|data|management|reporting)",
    ],
    "workforce": [
        r"workforce",
        r"caseloads?",
        r"recruitment and retention",
        r"staff turnover",
        r"agency (?:staff|social workers)",
        r"training",
    ],
    "send": [
        r"SEND",
        r"special educational needs",
        r"disabled children",
        r"disabilities",
        r"EHC plans?",
        r"education, health and care plans?",
    ],
    "exploitation": [
        r"exploitation",
        r"exploited",
        r"county lines",
        r"go(?:es|ing)? missing",
        r"missing from (?:home|care|education)",
        r"gang",
        r"serious youth violence",
    ],
    "early-help": [r"early help", r"family help", r"early intervention"],
    "front-door": [
        r"front door",
        r"MASH",
        r"multi-agency safeguarding hub",
        r"contacts? and referrals?",
        r"referrals?",
        r"thresholds?",
        r"strategy (?:meetings?|discussions?)",
    ],
    "permanence-and-adoption": [
        r"permanence",
        r"adoption",
        r"adopters?",
        r"special guardianship",
        r"life[- ]story",
    ],
    "children-in-care": [
        r"children in care",
        r"looked[- ]after",
        r"care plans?",
        r"placements?",
        r"foster(?:ing| carers?)",
        r"independent reviewing officers?",
        r"IROs?",
        r"placed with parents",
    ],
    "voice-of-the-child": [
        r"voice of (?:the )?child(?:ren)?",
        rf"children{_APOS}s? (?:views|voices?|wishes)",
        r"wishes and feelings",
        r"direct work",
        r"lived experiences?",
        r"participation",
    ],
    "corporate-parenting": [r"corporate parent(?:s|ing)?"],
    "partnership-working": [
        r"partnerships?",
        r"partner agencies",
        r"multi-agency",
        r"safeguarding partners",
        r"Local Safeguarding Children Board",
        r"LSCB",
    ],
}

# Acronyms must match case-sensitively, or "send" would match the verb and "mash" any text.
_CASE_SENSITIVE = {"MARAC", "SEND", "MASH", "IROs?", "LSCB", "EHC plans?"}


def _compile(patterns: list[str]) -> list[re.Pattern[str]]:
    compiled = []
    for pattern in patterns:
        flags = 0 if pattern in _CASE_SENSITIVE else re.IGNORECASE
        compiled.append(re.compile(rf"(?<![\w-]){pattern}(?![\w-])", flags))
    return compiled


_COMPILED: dict[str, list[re.Pattern[str]]] = {
    slug: _compile(patterns) for slug, patterns in _RULES.items()
}


def suggest_themes(text: str) -> list[str]:
    """Return the theme slugs whose keywords occur in ``text``, in taxonomy order."""
    if not text:
        return []
    return [
        slug
        for slug, _ in THEMES
        if any(pattern.search(text) for pattern in _COMPILED.get(slug, []))
    ]
