"""Build a personal report from stored responses: gather arrays, analyse, render, keep."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from feedback360.cycles.models import CLOSED, Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.models import Comment, FeedbackRequest, Rating, Response
from feedback360.reports.analysis import analyse
from feedback360.reports.models import Report
from feedback360.reports.render import report_html, report_pdf
from feedback360.reports.results import (
    GROUPS,
    ReportDocument,
    StatementText,
    ValueText,
)
from feedback360.timeutil import today


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "report"


def report_filename(request: FeedbackRequest) -> str:
    return f"{slug(request.subject.name)}-{slug(request.cycle.name)}-feedback-report.pdf"


def report_document(request: FeedbackRequest) -> ReportDocument:
    """Everything the report shows, computed by the analysis engine from the responses."""
    cycle = request.cycle
    framework = cycle.framework
    values = framework.values
    statements = framework.statements
    column_of = {statement.id: index for index, statement in enumerate(statements)}
    value_index = {value.id: index for index, value in enumerate(values)}
    # Order rows by group; within a group the random response id gives no order to read.
    responses = sorted(request.responses, key=lambda r: (GROUPS.index(r.group), r.id))
    row_of = {response.id: row for row, response in enumerate(responses)}
    ratings = np.full((len(responses), len(statements)), np.nan)
    if responses:
        for response_id, statement_id, score in db.session.execute(
            db.select(Rating.response_id, Rating.statement_id, Rating.score)
            .join(Response)
            .where(Response.request_id == request.id)
        ):
            if score is not None and statement_id in column_of:
                ratings[row_of[response_id], column_of[statement_id]] = score
    comments = [
        (value_index[value_id], group, text)
        for group, value_id, text in db.session.execute(
            db.select(Response.group, Comment.value_id, Comment.text)
            .join(Response, Comment.response_id == Response.id)
            .where(Response.request_id == request.id)
        )
    ]
    result = analyse(
        ratings,
        [response.group for response in responses],
        np.array([value_index[s.value_id] for s in statements], dtype=int),
        np.array([s.positive for s in statements], dtype=bool),
        n_values=len(values),
        k=cycle.anonymity_threshold,
        manager_identifiable=cycle.manager_identifiable,
        scale_points=len(framework.scale),
        comments=comments,
        seed=request.id,
    )
    return ReportDocument(
        subject_name=request.subject.name,
        subject_first_name=request.subject.first_name,
        cycle_name=cycle.name,
        framework_name=framework.name,
        preamble=framework.preamble,
        scale=list(framework.scale),
        generated_on=today(),
        threshold=cycle.anonymity_threshold,
        values=[ValueText(title=v.title, summary=v.summary) for v in values],
        statements=[
            StatementText(
                text=s.plain_text, positive=s.positive, value_index=value_index[s.value_id]
            )
            for s in statements
        ],
        result=result,
    )


def build_report(request: FeedbackRequest) -> Report:
    """Build (or rebuild, until release) the request's report and keep HTML and PDF."""
    if request.cycle.status != CLOSED:
        raise DomainError(
            f"Reports for “{request.cycle.name}” can be built only while it is closed and not "
            "yet released; a released report never changes."
        )
    document = report_document(request)
    report = db.session.execute(
        db.select(Report).filter_by(request_id=request.id)
    ).scalar_one_or_none() or Report(request_id=request.id)
    report.filename = report_filename(request)
    report.html = report_html(document, pdf_url="report.pdf")
    report.pdf = report_pdf(document)
    db.session.add(report)
    db.session.flush()
    return report


def build_cycle_reports(cycle: Cycle, out_dir: Path | None = None) -> list[Report]:
    """Build every report of a closed cycle; with out_dir, also write each PDF there."""
    requests = (
        db.session.execute(
            db.select(FeedbackRequest).filter_by(cycle_id=cycle.id).order_by(FeedbackRequest.id)
        )
        .scalars()
        .all()
    )
    reports = [build_report(request) for request in requests]
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for report in reports:
            (out_dir / report.filename).write_bytes(report.pdf)
    return reports


def report_for(request: FeedbackRequest) -> Report | None:
    return db.session.execute(
        db.select(Report).filter_by(request_id=request.id)
    ).scalar_one_or_none()


def release_reports(cycle: Cycle) -> int:
    """Release a closed cycle's reports to their subjects, once every one has been built."""
    requests = (
        db.session.execute(db.select(FeedbackRequest).filter_by(cycle_id=cycle.id)).scalars().all()
    )
    unbuilt = [request.subject.name for request in requests if report_for(request) is None]
    if unbuilt:
        raise DomainError(
            f"{len(unbuilt)} report(s) are not built yet (for example {unbuilt[0]}'s); "
            "run `reports build` first."
        )
    cycle.release()
    return len(requests)
