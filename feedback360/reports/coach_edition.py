"""The coach's edition of a report: its page, and its PDF, made on the first download and kept.

A report built before coaches had an edition of their own is read by its coach as its
subject's copy, as it always was.
"""

from __future__ import annotations

from feedback360.extensions import db
from feedback360.reports import render
from feedback360.reports.models import Report


def coach_page(report: Report) -> str:
    return report.html if report.coach_html is None else report.coach_html


def coach_pdf(report: Report) -> bytes:
    """The coach's PDF, rendered from the page for print kept at build the first time it is
    asked for, and kept with the caller's commit. Ends the session's transaction (without
    saving) before it renders."""
    if report.coach_pdf is not None:
        return report.coach_pdf
    page = report.coach_print
    if page is None:
        return report.pdf
    # End the reading transaction before rendering: on SQLite it holds the write lock, which
    # everyone else who saves anything waits for meanwhile.
    db.session.rollback()
    report.coach_pdf = pdf = render.pdf_of_page(page)
    return pdf


def coach_pdf_filename(report: Report) -> str:
    """Named apart from the subject's PDF, so the two never overwrite each other."""
    if report.coach_print is None:
        return report.filename
    return report.filename.removesuffix(".pdf") + "-coach-edition.pdf"
