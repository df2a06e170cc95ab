"""Errors raised while reading an uploaded Ofsted report.

Every error carries a ``message`` that can be shown to the person who uploaded the file, so
views and management commands can catch ``ReportError`` and display ``exc.message`` as is.
"""

from __future__ import annotations


class ReportError(Exception):
    """Base class: the file could not be turned into a parsed report."""

    default_message = "The file could not be read as an Ofsted report."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class NotAPdf(ReportError):
    default_message = "The file is not a PDF. Upload the report PDF downloaded from Ofsted."


class EncryptedPdf(ReportError):
    default_message = (
        "The PDF is password protected. Upload the unprotected report as published by Ofsted."
    )


class DamagedPdf(ReportError):
    default_message = (
        "The PDF is damaged or incomplete and could not be read. Download it again and retry."
    )


class NoTextInPdf(ReportError):
    default_message = (
        "The PDF contains no readable text (it may be a scan). Upload the text PDF published "
        "by Ofsted."
    )


class FileTooLarge(ReportError):
    default_message = "The file is too large to be an Ofsted report."

    def __init__(self, message: str | None = None, *, size: int = 0, max_bytes: int = 0) -> None:
        self.size = size
        self.max_bytes = max_bytes
        if message is None and max_bytes:
            message = (
                f"The file is too large ({size / 1_048_576:.1f} MB). "
                f"The limit is {max_bytes / 1_048_576:.0f} MB."
            )
        super().__init__(message)


class NotAnOfstedReport(ReportError):
    default_message = (
        "The text does not look like an Ofsted children's services inspection report or letter."
    )


class TooManyPages(ReportError):
    def __init__(self, message: str | None = None, *, max_pages: int = 0) -> None:
        super().__init__(
            message
            or f"The PDF has more than {max_pages} pages, more than any Ofsted report; "
            "it was not read."
        )


class PdfTooComplex(ReportError):
    default_message = (
        "The PDF could not be read within the time and memory allowed (it is built in an "
        "unusual way, possibly to overload the server), so it was refused. Upload the report "
        "PDF as downloaded from Ofsted."
    )
