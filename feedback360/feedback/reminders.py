"""Reminding raters who have not answered yet: by hand from the dashboard, and by date.

The scheduled reminders go 7 and 2 days before a cycle's closing date. The cron job is
meant to run daily; if a run is missed, the first run after a reminder day (up to the
closing date) sends that day's reminder, to raters not reminded since that day and
nominated before it (an invitation keeps no sending date; this spares someone nominated
on the reminder day itself). A rater is never reminded twice on the same day for the same
request, however the reminders are started: each invitation is claimed for the day with
one conditional update before its mail goes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import or_, update

from feedback360.audit.services import record
from feedback360.cycles.models import OPEN, Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback import mails
from feedback360.feedback.models import INVITED, OPENED, FeedbackRequest, Invitation
from feedback360.wording import counted

REMINDER_DAYS_BEFORE_CLOSE = (7, 2)
WAITING = (INVITED, OPENED)  # invited, not yet submitted or declined


def waiting_invitations(
    cycle: Cycle, feedback_request: FeedbackRequest | None = None
) -> list[Invitation]:
    """The cycle's (or one request's) raters who were invited and have not answered."""
    query = (
        db.select(Invitation)
        .join(FeedbackRequest, Invitation.request_id == FeedbackRequest.id)
        .where(FeedbackRequest.cycle_id == cycle.id, Invitation.status.in_(WAITING))
        .order_by(Invitation.id)
    )
    if feedback_request is not None:
        query = query.where(Invitation.request_id == feedback_request.id)
    return list(db.session.scalars(query))


def remind(invitations: Iterable[Invitation], today: date) -> int:
    """Send each a reminder unless they had one today or have answered; how many were sent."""
    sent = 0
    for invitation in invitations:
        claimed = db.session.execute(
            update(Invitation)
            .where(
                Invitation.id == invitation.id,
                Invitation.status.in_(WAITING),
                or_(Invitation.last_reminded_on.is_(None), Invitation.last_reminded_on != today),
            )
            .values(last_reminded_on=today, reminders=Invitation.reminders + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue
        db.session.refresh(invitation)
        mails.send_reminder(invitation)
        sent += 1
    return sent


def remind_cycle(cycle: Cycle, today: date) -> int:
    """Remind every rater of an open cycle who has not answered (by an administrator)."""
    _require_open(cycle)
    sent = remind(waiting_invitations(cycle), today)
    record("reminders.send", f"cycle {cycle.id}", f"{counted(sent, 'rater')} reminded")
    return sent


def remind_request(feedback_request: FeedbackRequest, today: date) -> int:
    """Remind the raters of one request who have not answered (by an administrator)."""
    _require_open(feedback_request.cycle)
    sent = remind(waiting_invitations(feedback_request.cycle, feedback_request), today)
    record("reminders.send", f"request {feedback_request.id}", f"{counted(sent, 'rater')} reminded")
    return sent


def reminder_day(cycle: Cycle, today: date) -> date | None:
    """The latest scheduled reminder day on or before today, while the cycle is still open
    for answers; None before the first one, after the closing date, or with no date."""
    if cycle.status != OPEN or cycle.closes_on is None or today > cycle.closes_on:
        return None
    days = [cycle.closes_on - timedelta(days=n) for n in REMINDER_DAYS_BEFORE_CLOSE]
    passed = [day for day in days if day <= today]
    return max(passed) if passed else None


def send_scheduled_reminders(today: date) -> list[tuple[Cycle, date, int]]:
    """For each open cycle at or past a reminder day, remind who is due; what was sent."""
    done = []
    open_cycles = db.session.scalars(db.select(Cycle).filter_by(status=OPEN).order_by(Cycle.id))
    for cycle in open_cycles:
        day = reminder_day(cycle, today)
        if day is None:
            continue
        due = [
            invitation
            for invitation in waiting_invitations(cycle)
            if (invitation.last_reminded_on is None or invitation.last_reminded_on < day)
            and invitation.created_at.date() < day
        ]
        sent = remind(due, today)
        if sent:
            before = counted((cycle.closes_on - day).days, "day")
            detail = f"{counted(sent, 'rater')} reminded, {before} before close"
            record("reminders.send", f"cycle {cycle.id}", detail)
        done.append((cycle, day, sent))
    return done


def _require_open(cycle: Cycle) -> None:
    if cycle.status != OPEN:
        raise DomainError(f"“{cycle.name}” is {cycle.status}; reminders go only while it is open.")
