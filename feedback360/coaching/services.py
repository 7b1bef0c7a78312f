"""What a coach may know of their coachees' requests, and the debriefs they record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import selectinload

from feedback360.accounts.models import Person
from feedback360.audit.services import record
from feedback360.coaching.models import Debrief
from feedback360.cycles.models import CLOSED, OPEN, RELEASED, TOGETHER, Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.models import NOMINATED, FeedbackRequest
from feedback360.reports.models import Report
from feedback360.reports.services import report_for
from feedback360.timeutil import long_date

MAX_NOTE = 5000

# What a coach reads about a report, by where it stands.
NOT_BUILT, NOT_RELEASED, READY = "not_built", "not_released", "ready"


@dataclass(frozen=True)
class RequestState:
    """One coachee's request in one cycle, as far as the anonymity rules let a coach know
    (rule 7): how many raters responded, never who."""

    request: FeedbackRequest
    cycle_stage: str
    self_assessed: bool
    invited: int
    responded: int
    responses_deleted: bool
    report: str
    debrief: Debrief | None  # this coach's own
    earlier_debrief_on: date | None  # held by a previous coach; only its date is shown

    @property
    def report_ready(self) -> bool:
        return self.report == READY

    @property
    def report_not_released(self) -> bool:
        return self.report == NOT_RELEASED


@dataclass(frozen=True)
class Coachee:
    person: Person
    requests: list[RequestState]


def released_to_coaches(cycle: Cycle) -> bool:
    return cycle.released_to_coaches or cycle.status == RELEASED


def coachees(coach: Person) -> list[Coachee]:
    """The people whose coach this is, each with their requests, newest cycle first."""
    people = db.session.scalars(
        db.select(Person).filter_by(coach_id=coach.id).order_by(Person.name, Person.id)
    ).all()
    requests = db.session.scalars(
        db.select(FeedbackRequest)
        .where(FeedbackRequest.subject_id.in_([person.id for person in people]))
        .options(
            selectinload(FeedbackRequest.invitations),
            selectinload(FeedbackRequest.cycle),
        )
        .order_by(FeedbackRequest.created_at.desc(), FeedbackRequest.id.desc())
    ).all()
    by_subject: dict[int, list[RequestState]] = {person.id: [] for person in people}
    for feedback_request in requests:
        by_subject[feedback_request.subject_id].append(request_state(coach, feedback_request))
    return [Coachee(person, by_subject[person.id]) for person in people]


def request_state(coach: Person, feedback_request: FeedbackRequest) -> RequestState:
    cycle = feedback_request.cycle
    debriefs = db.session.scalars(
        db.select(Debrief).filter_by(request_id=feedback_request.id)
    ).all()
    own = next((d for d in debriefs if d.coach_id == coach.id), None)
    earlier = [d.held_on for d in debriefs if d.coach_id != coach.id]
    return RequestState(
        request=feedback_request,
        cycle_stage=_cycle_stage(cycle),
        self_assessed=feedback_request.self_assessed,
        invited=sum(1 for i in feedback_request.invitations if i.status != NOMINATED),
        responded=feedback_request.rater_responses,
        responses_deleted=cycle.responses_deleted_on is not None,
        report=_report_stage(feedback_request),
        debrief=own,
        earlier_debrief_on=max(earlier) if earlier else None,
    )


def _cycle_stage(cycle: Cycle) -> str:
    if cycle.status == OPEN:
        closes = f", closes on {long_date(cycle.closes_on)}" if cycle.closes_on else ""
        return f"Open{closes}"
    return {CLOSED: "Closed", RELEASED: "Reports released to staff"}.get(cycle.status, "Not open")


def _report_stage(feedback_request: FeedbackRequest) -> str:
    built = db.session.scalar(
        db.select(db.func.count()).select_from(Report).filter_by(request_id=feedback_request.id)
    )
    if not built:
        return NOT_BUILT
    return READY if released_to_coaches(feedback_request.cycle) else NOT_RELEASED


def own_debrief(coach: Person, feedback_request: FeedbackRequest) -> Debrief | None:
    return db.session.scalars(
        db.select(Debrief).filter_by(request_id=feedback_request.id, coach_id=coach.id)
    ).one_or_none()


def earliest_debrief_date(feedback_request: FeedbackRequest, report: Report) -> date:
    """The first day a debrief could have been held: the report's release to coaches.

    The cycle keeps no date for a release to coaches, so the report's build date stands for
    it (no report is released before it is built); where coaches and staff receive reports
    together, the release date is known and used.
    """
    earliest = report.built_at.date()
    cycle = feedback_request.cycle
    if cycle.release_mode == TOGETHER and cycle.released_on:
        earliest = max(earliest, cycle.released_on)
    return earliest


def record_debrief(
    coach: Person, feedback_request: FeedbackRequest, held_on: date, note: str, *, today: date
) -> Debrief:
    """Record (or correct) the coach's debrief; refuses a date in the future or before the
    report reached the coach. The note is never written to the audit log."""
    report = report_for(feedback_request)
    if report is None or not released_to_coaches(feedback_request.cycle):
        raise DomainError("This report has not been released to you yet.")
    if held_on > today:
        raise DomainError("The date of the debrief cannot be in the future.", "held_on")
    earliest = earliest_debrief_date(feedback_request, report)
    if held_on < earliest:
        raise DomainError(
            "The debrief cannot have taken place before the report was ready: "
            f"enter a date on or after {long_date(earliest)}.",
            "held_on",
        )
    if len(note) > MAX_NOTE:
        raise DomainError(f"Keep the note under {MAX_NOTE} characters.", "private_note")
    debrief = own_debrief(coach, feedback_request)
    if debrief is None:
        debrief = Debrief(request=feedback_request, coach=coach, held_on=held_on)
        db.session.add(debrief)
    debrief.held_on = held_on
    debrief.private_note = note.strip()
    db.session.flush()
    record(
        "debrief.record",
        f"request {feedback_request.id}",
        f"held on {held_on.isoformat()}",
        actor=coach,
    )
    return debrief
