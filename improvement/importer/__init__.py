"""Reading Ofsted children's services reports (PDF or text) into structured data."""

from .authorities import match_authority
from .errors import (
    DamagedPdf,
    EncryptedPdf,
    FileTooLarge,
    NotAnOfstedReport,
    NotAPdf,
    NoTextInPdf,
    PdfTooComplex,
    ReportError,
    TooManyPages,
)
from .parser import ParsedReport, parse_file, parse_pdf, parse_report
from .themes import THEMES, suggest_themes

__all__ = [
    "THEMES",
    "DamagedPdf",
    "EncryptedPdf",
    "FileTooLarge",
    "NoTextInPdf",
    "NotAPdf",
    "NotAnOfstedReport",
    "ParsedReport",
    "PdfTooComplex",
    "ReportError",
    "TooManyPages",
    "match_authority",
    "parse_file",
    "parse_pdf",
    "parse_report",
    "suggest_themes",
]
