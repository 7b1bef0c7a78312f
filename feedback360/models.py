"""Every model, imported in one place so metadata (and Alembic) sees all tables."""

from feedback360.accounts.models import Person
from feedback360.cycles.models import Cycle
from feedback360.feedback.models import Comment, FeedbackRequest, Invitation, Rating, Response
from feedback360.frameworks.models import Framework, Statement, Value
from feedback360.reports.models import Report

__all__ = [
    "Comment",
    "Cycle",
    "FeedbackRequest",
    "Framework",
    "Invitation",
    "Person",
    "Rating",
    "Report",
    "Response",
    "Statement",
    "Value",
]
