"""A built personal report, kept as it was built so it never changes after release."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.timeutil import utcnow


class Report(db.Model):
    """Frozen once per build (its document: what the report shows, decided by one analysis
    of the whole cycle), then rendered: in the background, or when first asked for. A render
    is a pure function of the document, so the report is the same whenever it is made."""

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_request.id"), unique=True)
    filename: Mapped[str] = mapped_column(String(300))
    # The frozen document (see frozen); None in a report built before documents were kept.
    document: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # The subject's page and PDF; None until rendered.
    html: Mapped[str | None] = mapped_column(Text)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # The coach's edition: its page, and its page for print, kept at build; its PDF made
    # from that on a coach's first download (a second PDF per build would double the
    # build's time). None in a report built before coaches had an edition of their own.
    # Deferred, so that the subject's reading never loads them.
    coach_html: Mapped[str | None] = mapped_column(Text, deferred=True)
    coach_print: Mapped[str | None] = mapped_column(Text, deferred=True)
    coach_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # "All raters" value scores as shown (None where hidden), for the next report's
    # "change since your last report".
    value_scores: Mapped[list[float | None] | None] = mapped_column(JSON)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)  # frozen, or frozen again
    rendered_at: Mapped[datetime | None]

    @property
    def rendered(self) -> bool:
        return self.html is not None

    request: Mapped[FeedbackRequest] = relationship()


class OrganisationSummary(db.Model):
    """A cycle's anonymous aggregates (rule 9), kept when rater-level responses are deleted."""

    __tablename__ = "organisation_summary"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    made_at: Mapped[datetime] = mapped_column(default=utcnow)
