"""Build a personal report from stored responses: gather arrays, analyse, render, keep."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy.orm import selectinload

from feedback360.accounts.models import Person, first_name_of
from feedback360.audit.services import record
from feedback360.cycles.models import RELEASED, Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.models import NOMINATED, FeedbackRequest, Invitation
from feedback360.frameworks.models import Framework
from feedback360.reports import mails
from feedback360.reports.engine.analysis import CycleAnalysis, analyse_cycle
from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.engine.results import ReportDocument, StatementText, ValueText
from feedback360.reports.loading import load_cycle, load_cycle_comments
from feedback360.reports.models import Report
from feedback360.timeutil import today
from feedback360.wording import counted

if TYPE_CHECKING:
    # Only for the type. Imported at run time, the renderer loads while the app is made,
    # and a process that had made the app and rendered a PDF crashed as it exited (a
    # test in test_render.py runs exactly that).
    pass


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "report"


def report_filename(feedback_request: FeedbackRequest) -> str:
    return filename_for(feedback_request.subject.name, feedback_request.cycle.name)


def filename_for(subject_name: str, cycle_name: str) -> str:
    return f"{slug(subject_name)}-{slug(cycle_name)}-feedback-report.pdf"


def settings_for(cycle: Cycle) -> CycleSettings:
    return CycleSettings(
        k=cycle.anonymity_threshold, manager_identifiable=cycle.manager_identifiable
    )


def previous_value_scores(cycle: Cycle, request_ids: Sequence[int]) -> np.ndarray:
    """Each subject's "All raters" value scores in their latest earlier released report on
    the same framework (any version), NaN where there is none or a score was hidden."""
    scores = np.full((len(request_ids), len(cycle.framework.values)), np.nan)
    subject_of = dict(
        db.session.execute(
            db.select(FeedbackRequest.id, FeedbackRequest.subject_id).filter_by(cycle_id=cycle.id)
        ).all()
    )
    row_of = {subject_of[request_id]: row for row, request_id in enumerate(request_ids)}
    # A subquery rather than a list of ids: a cycle may hold more subjects than SQLite
    # allows parameters in one statement.
    this_cycles_subjects = db.select(FeedbackRequest.subject_id).filter_by(cycle_id=cycle.id)
    earlier = db.session.execute(
        db.select(FeedbackRequest.subject_id, Report.value_scores)
        .join(Report, Report.request_id == FeedbackRequest.id)
        .join(Cycle, FeedbackRequest.cycle_id == Cycle.id)
        .join(Framework, Cycle.framework_id == Framework.id)
        .where(
            Framework.key == cycle.framework.key,
            Cycle.status == RELEASED,
            Cycle.id != cycle.id,
            Cycle.created_at < cycle.created_at,
            FeedbackRequest.subject_id.in_(this_cycles_subjects),
        )
        .order_by(Report.built_at)  # later reports overwrite earlier ones below
    )
    for subject_id, value_scores in earlier:
        if subject_id in row_of and value_scores and len(value_scores) == scores.shape[1]:
            scores[row_of[subject_id]] = [np.nan if v is None else v for v in value_scores]
    return scores


@dataclass(frozen=True)
class AnalysedCycle:
    """A cycle analysed as a whole, with what each subject's document needs besides, as
    plain data: a document can then be made anywhere, in this process or a forked one."""

    analysis: CycleAnalysis
    request_ids: list[int]  # subject index → request id
    names: dict[int, tuple[str, str]]  # request id → the subject's name and first name
    comments: dict[int, list[tuple[int, str, str]]]
    invited: dict[int, int]
    shared: dict[str, Any]  # the fields every document of the cycle has the same


def analysed_cycle(cycle: Cycle) -> AnalysedCycle:
    """Load and analyse the whole cycle (its norms need every subject): a handful of queries
    for the cycle, none per subject: at 47,000 subjects one each would cost more than the
    analysis."""
    loaded = load_cycle(cycle.id)
    arrays = replace(
        loaded.arrays,
        previous_value_scores=previous_value_scores(cycle, loaded.request_ids),
    )
    framework = cycle.framework
    values, statements = _framework_texts(framework)
    names = db.session.execute(
        db.select(FeedbackRequest.id, Person.name)
        .join(Person, FeedbackRequest.subject_id == Person.id)
        .where(FeedbackRequest.cycle_id == cycle.id)
    )
    return AnalysedCycle(
        analysis=analyse_cycle(arrays, settings_for(cycle)),
        request_ids=loaded.request_ids,
        names={request_id: (name, first_name_of(name)) for request_id, name in names},
        comments=load_cycle_comments(cycle.id),
        invited=invited_counts(cycle),
        shared={
            "cycle_name": cycle.name,
            "framework_name": framework.name,
            "preamble": framework.preamble,
            "scale": list(framework.scale),
            "generated_on": today(),
            "threshold": cycle.anonymity_threshold,
            "values": values,
            "statements": statements,
        },
    )


def document_of(analysed: AnalysedCycle, subject: int) -> ReportDocument:
    """One subject's report document, from the cycle's analysis; pure."""
    request_id = analysed.request_ids[subject]
    name, first = analysed.names[request_id]
    result = analysed.analysis.report(subject, analysed.comments.get(request_id, []), request_id)
    return ReportDocument(
        subject_name=name,
        subject_first_name=first,
        result=result,
        invited=analysed.invited.get(request_id, 0),
        **analysed.shared,
    )


def invited_counts(cycle: Cycle) -> dict[int, int]:
    """How many raters each request of the cycle sent an invitation to, in one query."""
    return dict(
        db.session.execute(
            db.select(Invitation.request_id, db.func.count())
            .join(FeedbackRequest, Invitation.request_id == FeedbackRequest.id)
            .where(FeedbackRequest.cycle_id == cycle.id, Invitation.status != NOMINATED)
            .group_by(Invitation.request_id)
        ).all()
    )


def _framework_texts(framework: Framework) -> tuple[list[ValueText], list[StatementText]]:
    values = [ValueText(title=v.title, summary=v.summary) for v in framework.values]
    statements = [
        StatementText(text=s.plain_text, positive=s.positive, value_index=index, serious=s.serious)
        for index, value in enumerate(framework.values)
        for s in value.statements
    ]
    return values, statements


def report_document(feedback_request: FeedbackRequest) -> ReportDocument:
    """The document of one request's report, analysed with the rest of its cycle."""
    analysed = analysed_cycle(feedback_request.cycle)
    return document_of(analysed, analysed.request_ids.index(feedback_request.id))


def report_for(feedback_request: FeedbackRequest) -> Report | None:
    return db.session.execute(
        db.select(Report).filter_by(request_id=feedback_request.id)
    ).scalar_one_or_none()


def built_request_ids(cycle: Cycle) -> set[int]:
    """The cycle's requests whose report is frozen, rendered or not (ids only)."""
    return set(
        db.session.scalars(
            db.select(Report.request_id)
            .join(FeedbackRequest, Report.request_id == FeedbackRequest.id)
            .where(FeedbackRequest.cycle_id == cycle.id)
        )
    )


def release_to_coaches(cycle: Cycle) -> int:
    """Let coaches read their coachees' reports of a closed cycle, and tell each coach;
    the subjects wait for release to staff. How many reports have a coach to read them."""
    requests = _check_all_built(cycle)
    cycle.release_to_coaches()
    told = _tell_coaches(requests)
    record("reports.release_to_coaches", f"cycle {cycle.id}", counted(told, "coach mail"))
    return len(requests)


def release_reports(cycle: Cycle) -> int:
    """Release a closed cycle's reports to their subjects, once every one is frozen (its
    page and PDF may still be on their way: a reader who comes first has them made),
    telling each subject, and each coach not told already. How many reports were released."""
    requests = _check_all_built(cycle)
    coaches_told = cycle.released_to_coaches
    cycle.release(today())
    if not coaches_told:
        _tell_coaches(requests)
    mails.send_reports_ready(
        [(request, request.subject) for request in requests if request.subject.active]
    )
    record("reports.release", f"cycle {cycle.id}", counted(len(requests), "report"))
    return len(requests)


def _check_all_built(cycle: Cycle) -> list[FeedbackRequest]:
    cycle.check_releasable()
    requests = list(
        db.session.scalars(
            db.select(FeedbackRequest)
            .filter_by(cycle_id=cycle.id)
            .order_by(FeedbackRequest.id)
            .options(selectinload(FeedbackRequest.subject).selectinload(Person.coach))
        )
    )
    built = built_request_ids(cycle)
    unbuilt = [
        feedback_request.subject.name
        for feedback_request in requests
        if feedback_request.id not in built
    ]
    if unbuilt:
        raise DomainError(
            f"{counted(len(unbuilt), 'report')} {'is' if len(unbuilt) == 1 else 'are'} not built "
            f"yet (for example {unbuilt[0]}'s); "
            "build them first (once every report is analysed and kept, they can be released "
            "while their PDFs are still being made)."
        )
    return requests


def _tell_coaches(requests: list[FeedbackRequest]) -> int:
    coaches = [
        (request, coach)
        for request in requests
        if (coach := request.subject.coach) is not None and coach.active and coach.is_coach
    ]
    mails.send_reports_ready(coaches)
    return len(coaches)
