"""Every model, imported in one place so metadata (and Alembic) sees all tables."""

from feedback360.accounts.models import Person
from feedback360.audit.models import AuditEntry
from feedback360.coaching.models import Debrief
from feedback360.cycles.models import Cycle
from feedback360.feedback.models import Comment, FeedbackRequest, Invitation, Response
from feedback360.frameworks.models import Framework, Statement, Value
from feedback360.mailing.models import QueuedMail
from feedback360.reports.models import OrganisationSummary, Report

__all__ = [
    "AuditEntry",
    "Comment",
    "Cycle",
    "Debrief",
    "FeedbackRequest",
    "Framework",
    "Invitation",
    "OrganisationSummary",
    "Person",
    "QueuedMail",
    "Report",
    "Response",
    "Statement",
    "Value",
]
