"""Build a personal report from stored responses: gather arrays, analyse, render, keep."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from feedback360.audit.services import record
from feedback360.cycles.models import RELEASED, Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.models import NOMINATED, FeedbackRequest, Invitation
from feedback360.frameworks.models import Framework
from feedback360.groups import ALL_RATERS
from feedback360.reports import mails
from feedback360.reports.engine.analysis import analyse_cycle
from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.engine.results import ReportDocument, StatementText, ValueText
from feedback360.reports.loading import load_comments, load_cycle
from feedback360.reports.models import Report
from feedback360.timeutil import today, utcnow
from feedback360.wording import counted

if TYPE_CHECKING:
    # Only for the type. Imported at run time, the renderer loads while the app is made,
    # and a process that had made the app and rendered a PDF crashed as it exited (a
    # test in test_render.py runs exactly that).
    from feedback360.reports.build_steps import Rendered


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "report"


def report_filename(feedback_request: FeedbackRequest) -> str:
    subject, cycle = feedback_request.subject.name, feedback_request.cycle.name
    return f"{slug(subject)}-{slug(cycle)}-feedback-report.pdf"


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


def cycle_documents(
    cycle: Cycle, skip: Collection[int] = ()
) -> Iterator[tuple[FeedbackRequest, ReportDocument]]:
    """The cycle's reports (but those of requests in skip), analysed together for norms."""
    loaded = load_cycle(cycle.id)
    arrays = replace(
        loaded.arrays,
        previous_value_scores=previous_value_scores(cycle, loaded.request_ids),
    )
    analysis = analyse_cycle(arrays, settings_for(cycle))
    framework = cycle.framework
    texts = _framework_texts(framework)
    invited = invited_counts(cycle)
    for subject, request_id in enumerate(loaded.request_ids):
        if request_id in skip:
            continue
        feedback_request = db.session.get_one(FeedbackRequest, request_id)
        comments = load_comments(cycle.id, request_id)
        result = analysis.report(subject, comments, seed=request_id)
        yield (
            feedback_request,
            ReportDocument(
                subject_name=feedback_request.subject.name,
                subject_first_name=feedback_request.subject.first_name,
                cycle_name=cycle.name,
                framework_name=framework.name,
                preamble=framework.preamble,
                scale=list(framework.scale),
                generated_on=today(),
                threshold=cycle.anonymity_threshold,
                values=texts[0],
                statements=texts[1],
                result=result,
                invited=invited.get(request_id, 0),
            ),
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
    for candidate, document in cycle_documents(feedback_request.cycle):
        if candidate.id == feedback_request.id:
            return document
    raise DomainError("This request is not part of its cycle.")  # unreachable by design


def keep_report(
    feedback_request: FeedbackRequest, document: ReportDocument, rendered: Rendered
) -> Report:
    """Store a rendered report, replacing an earlier build of the same request."""
    report = report_for(feedback_request) or Report(request_id=feedback_request.id)
    report.filename = report_filename(feedback_request)
    report.html = rendered.html
    report.pdf = rendered.pdf
    report.coach_html = rendered.coach_html
    report.coach_print = rendered.coach_print
    report.coach_pdf = None  # an earlier build's; made again from this one on demand
    report.value_scores = [value.scores.get(ALL_RATERS) for value in document.result.values]
    report.built_at = utcnow()  # a rebuild is dated too (a retried build task reads it)
    db.session.add(report)
    db.session.flush()
    return report


def report_for(feedback_request: FeedbackRequest) -> Report | None:
    return db.session.execute(
        db.select(Report).filter_by(request_id=feedback_request.id)
    ).scalar_one_or_none()


def built_request_ids(cycle: Cycle) -> set[int]:
    """The cycle's requests that have a report kept (ids only: no PDF is loaded)."""
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
    """Release a closed cycle's reports to their subjects, once every one has been built,
    telling each subject, and each coach not told already. How many reports were released."""
    requests = _check_all_built(cycle)
    coaches_told = cycle.released_to_coaches
    cycle.release(today())
    if not coaches_told:
        _tell_coaches(requests)
    for feedback_request in requests:
        if feedback_request.subject.active:
            mails.send_report_ready(feedback_request, feedback_request.subject)
    record("reports.release", f"cycle {cycle.id}", counted(len(requests), "report"))
    return len(requests)


def _check_all_built(cycle: Cycle) -> list[FeedbackRequest]:
    cycle.check_releasable()
    requests = list(
        db.session.scalars(
            db.select(FeedbackRequest).filter_by(cycle_id=cycle.id).order_by(FeedbackRequest.id)
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
            "build them first."
        )
    return requests


def _tell_coaches(requests: list[FeedbackRequest]) -> int:
    told = 0
    for feedback_request in requests:
        coach = feedback_request.subject.coach
        if coach is not None and coach.active and coach.is_coach:
            mails.send_report_ready(feedback_request, coach)
            told += 1
    return told
