"""Read the text of one PDF inside a throw-away process with hard limits.

A crafted PDF can make any PDF library spin (a million text operators in one small compressed
stream) or allocate without end. Run as a script (``python pdf_worker.py CPU_SECONDS
MAX_PAGES``), this module first caps its own CPU time and address space with ``setrlimit``, then
reads the PDF from stdin and writes JSON to stdout. The kernel ends it when the CPU budget is
spent, so no PDF can keep a web worker busy; the parent adds a wall-clock timeout on top.

It imports only the standard library and pypdfium2, so that the process starts fast (no Django)
and so that ``read_pdf`` can also be called in process (benchmarks, the parser's own tests).

Output: ``{"pages": [{"text": str, "rows": [{"y": y, "cells": [[x0, x1, text], ...]}] | null}]}`` or
``{"error": code}``. ``rows`` are the printed lines of pages holding a table, each line as its
horizontal runs of text with their x positions, so that table cells can be told apart.
"""

from __future__ import annotations

import json
import sys

# Pages whose text holds one of these carry a table whose columns carry meaning.
TABLE_MARKERS = ("Responsible bod",)
# A horizontal gap wider than this (in points) between two characters splits a line into cells.
_CELL_GAP = 6.0


class PdfWorkerError(Exception):
    """A PDF that cannot be read; ``code`` says why."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def read_pdf(data: bytes, *, max_pages: int) -> list[dict]:
    """The text of every page, and positioned lines of table pages."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        raise PdfWorkerError("encrypted" if "password" in message else "damaged") from exc
    try:
        count = len(document)
        if count == 0:
            raise PdfWorkerError("no_pages")
        if count > max_pages:
            raise PdfWorkerError("too_many_pages")
        pages = []
        # A table continues over the next page(s) without its header.
        table_until = -1
        for index in range(count):
            try:
                page = document[index]
                textpage = page.get_textpage()
                chars = textpage.count_chars()
                text = textpage.get_text_range(0, chars) if chars else ""
                if any(marker in text for marker in TABLE_MARKERS):
                    table_until = index + 2
                rows = _rows(textpage, text) if index <= table_until else None
                pages.append({"text": text, "rows": rows})
            except pdfium.PdfiumError:
                pages.append({"text": "", "rows": None, "failed": True})
        return pages
    finally:
        document.close()


def _rows(textpage, text: str) -> list[dict]:
    """Group the characters of a page into printed lines, and each line into cells by gaps."""
    boxes = []
    previous = None
    for index, char in enumerate(text):
        if char in "\r\n\x02" or (char.isspace() and char != " "):
            continue
        left, bottom, right, top = textpage.get_charbox(index, loose=True)
        if right <= left and top <= bottom:
            if char != " " or previous is None:
                continue
            # pdfium generates word spaces without a box: place them after the previous char.
            boxes.append((previous[0], previous[2], previous[2], previous[3], " "))
            continue
        previous = (round((top + bottom) / 2, 1), left, right, top - bottom, char)
        boxes.append(previous)
    # Lines: characters whose vertical centres lie within half a character height.
    boxes.sort(key=lambda box: (-box[0], box[1]))
    lines: list[list[tuple]] = []
    for box in boxes:
        if lines and abs(lines[-1][0][0] - box[0]) <= max(2.0, box[3] / 2):
            lines[-1].append(box)
        else:
            lines.append([box])
    rows = []
    for line in lines:
        line.sort(key=lambda box: box[1])
        cells: list[list] = []
        for _centre, left, right, _height, char in line:
            if cells and left - cells[-1][1] <= _CELL_GAP:
                cells[-1][1] = max(cells[-1][1], right)
                cells[-1][2] += char
            else:
                cells.append([left, right, char])
        kept = [[round(c[0], 1), round(c[1], 1), " ".join(c[2].split())] for c in cells]
        kept = [cell for cell in kept if cell[2]]
        if kept:
            rows.append({"y": line[0][0], "cells": kept})
    return rows


def main() -> None:  # pragma: no cover - exercised through a subprocess in the tests
    import resource

    cpu_seconds, max_pages, max_memory = (int(arg) for arg in sys.argv[1:4])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    data = sys.stdin.buffer.read()
    try:
        result = {"pages": read_pdf(data, max_pages=max_pages)}
    except PdfWorkerError as exc:
        result = {"error": exc.code}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
