"""Guards on the templates' markup that keep every page usable at 320 CSS pixels and in landmarks.

- Every <table> either stacks on narrow screens (class app-table--stack, with a data-label on
  each <td>) or scrolls inside its own labelled, focusable region
  (<div class="app-table-scroll" role="region" aria-label="..." tabindex="0">), so a table
  added by any branch cannot widen a page (static/css/app.css says how).
- Every back link sits in a navigation landmark: content outside landmarks fails axe's "region".

The Django admin's templates (templates/admin/, templates/simple_history/) are Django's own
layout and are left out.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
NOT_OURS = ("admin", "simple_history")
# Template tags become a neutral token, so the parser sees the markup they sit in.
TEMPLATE_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.DOTALL)
COMMENT_BLOCK = re.compile(r"\{% comment %\}.*?\{% endcomment %\}", re.DOTALL)


def our_templates() -> list[Path]:
    return sorted(
        path
        for path in TEMPLATES.rglob("*.html")
        if path.relative_to(TEMPLATES).parts[0] not in NOT_OURS
    )


class Markup(HTMLParser):
    """Records each table, cell and back link with the open elements around it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.tables: list[tuple[dict[str, str], list[tuple[str, dict[str, str]]], int]] = []
        self.cells_without_label: list[int] = []
        self.back_links_outside_nav: list[int] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        attributes = {name: value or "" for name, value in attrs}
        line = self.getpos()[0]
        if tag == "table":
            self.tables.append((attributes, list(self.stack), line))
        if tag == "td" and self._in_stacked_table() and "data-label" not in attributes:
            self.cells_without_label.append(line)
        if "govuk-back-link" in attributes.get("class", "").split() and not any(
            name == "nav" for name, _ in self.stack
        ):
            self.back_links_outside_nav.append(line)
        if tag not in {"br", "img", "input", "meta", "link", "hr", "col", "source", "wbr"}:
            self.stack.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def _in_stacked_table(self) -> bool:
        tables = [attrs for name, attrs in self.stack if name == "table"]
        return bool(tables) and "app-table--stack" in tables[-1].get("class", "").split()


def parse(path: Path) -> Markup:
    source = COMMENT_BLOCK.sub("", path.read_text())
    # Keep line numbers: a tag becomes as many newlines as it spanned.
    source = TEMPLATE_TAG.sub(lambda m: "\n" * m.group(0).count("\n") or " ", source)
    markup = Markup()
    markup.feed(source)
    return markup


def scroll_region(ancestors: list[tuple[str, dict[str, str]]]) -> bool:
    """The table's nearest element is a labelled, focusable scroll region."""
    if not ancestors:
        return False
    name, attrs = ancestors[-1]
    return (
        name == "div"
        and "app-table-scroll" in attrs.get("class", "").split()
        and attrs.get("role") == "region"
        and "aria-label" in attrs
        and attrs.get("tabindex") == "0"
    )


def test_the_guard_reads_templates():
    """The walk finds the tables it guards (a guard that reads nothing passes nothing)."""
    tables = sum(len(parse(path).tables) for path in our_templates())
    assert tables >= 15


@pytest.mark.parametrize("path", our_templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_tables_stack_or_scroll_in_a_region(path: Path):
    markup = parse(path)
    for attrs, ancestors, line in markup.tables:
        stacked = "app-table--stack" in attrs.get("class", "").split()
        assert stacked or scroll_region(ancestors), (
            f"{path.name}:{line}: a <table> must have class app-table--stack (with data-label "
            'on each <td>) or sit directly in <div class="app-table-scroll" role="region" '
            'aria-label="..." tabindex="0"> (see static/css/app.css)'
        )
    assert not markup.cells_without_label, (
        f"{path.name}: <td> without data-label in a stacked table, lines "
        f'{markup.cells_without_label} (data-label="" for a cell that needs no heading)'
    )


@pytest.mark.parametrize("path", our_templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_back_links_sit_in_a_navigation_landmark(path: Path):
    lines = parse(path).back_links_outside_nav
    assert not lines, (
        f'{path.name}: wrap the back link in <nav class="app-back-link" aria-label="Back">, '
        f"lines {lines}"
    )


def test_the_guard_catches_a_bare_table(tmp_path):
    """A plain table, a stacked one with an unlabelled cell and a bare back link all fail."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<a class="govuk-back-link" href="/">Back</a>'
        '<table class="govuk-table"><tr><td>1</td></tr></table>'
        '<table class="govuk-table app-table--stack"><tr><td>{{ x }}</td></tr></table>'
        '<div class="app-table-scroll"><table class="govuk-table"></table></div>'
    )
    markup = parse(bad)
    unguarded = [
        line
        for attrs, ancestors, line in markup.tables
        if "app-table--stack" not in attrs.get("class", "") and not scroll_region(ancestors)
    ]
    assert len(unguarded) == 2  # the plain one, and the one in an unlabelled region
    assert len(markup.cells_without_label) == 1
    assert len(markup.back_links_outside_nav) == 1


def test_no_template_comment_spans_lines():
    """Django's {# #} comment is one line only: spread over two, it is shown on the page."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "templates"
    spread = [
        f"{path.relative_to(root)}:{text[: match.start()].count(chr(10)) + 1}"
        for path in root.rglob("*.html")
        for text in [path.read_text(encoding="utf-8")]
        for match in re.finditer(r"\{#(?:(?!#\}).)*?\n", text)
    ]
    assert not spread, f"use {{% comment %}} for comments over several lines: {spread}"
