"""Closing a cycle: every rater's answers cut from them for good (rule 6).

Until the close each rater's answers are sealed with their invitation. Closing a cycle, in
one transaction: reads every answer; counts each request's responses by group; freezes the
organisation summary (rule 9); then writes the responses afresh, all at once, in random
order, without a date, each under its own group only where that group is shown on its own
and otherwise under the pooled label, leaving out answers that no report can ever show (see
reports.engine.storage); and
wipes the sealed answers. Once that has committed, the cycle's answer key is destroyed and
the storage forgets the old pages (SQLite's write-ahead log truncated; PostgreSQL's tables
vacuumed). Neither row order, pages, transaction ids nor a backup then pairs a response
with an invitation.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, event, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from feedback360.audit.services import record
from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback.answers import Answers
from feedback360.feedback.models import (
    SUBMITTED,
    Comment,
    FeedbackRequest,
    Invitation,
    Response,
    random_id,
)
from feedback360.feedback.packed import NO_RATING, pack_scores
from feedback360.feedback.sealing import destroy_key, unseal
from feedback360.groups import GROUPS
from feedback360.reports.cycle_summary import keep_summary
from feedback360.reports.engine.inputs import GROUP_CODE, CycleArrays
from feedback360.reports.engine.storage import storage_labels
from feedback360.reports.loading import LoadedCycle

log = logging.getLogger(__name__)
# What a stored label code names; a code not here (dropped) is not stored at all.
_LABELS = {code: label for label, code in GROUP_CODE.items()}
_shuffle = random.SystemRandom().shuffle
_NO_COMMENTS: dict[int, str] = {}  # shared by every answer without one; never changed


@dataclass(frozen=True, slots=True)
class Answered:
    """One answer, its ratings packed as they will be stored: a cycle of 47,000 holds half a
    million, which as dictionaries of ratings took 2 GiB."""

    request_id: int
    group: str
    scores: bytes
    comments: dict[int, str]


def close_cycle(cycle: Cycle, *, by_date: bool = False) -> None:
    """Close the cycle and cut every rater's answers from them for good (rule 6)."""
    hold_every_answer(cycle)  # before the cycle's own row: the order every save locks in
    cycle.close()
    cut_answers_from_raters(cycle)
    record("cycle.close", f"cycle {cycle.id}", "after its closing date" if by_date else "")


def hold_every_answer(cycle: Cycle) -> None:
    """Lock the cycle's requests, then their invitations, until the close commits.

    A save locks its request or invitation, then reads the cycle's row with a share lock to
    check it is open (see services._require_open). Taking the rows first and the cycle's
    row last, as a save does, the close waits for every save under way and no save waits
    for the close in a circle; a save that comes after finds the cycle closed. On SQLite,
    where one transaction writes at a time, the locks are no-ops.
    """
    in_cycle = select(FeedbackRequest.id).filter_by(cycle_id=cycle.id)
    db.session.execute(in_cycle.order_by(FeedbackRequest.id).with_for_update()).all()
    db.session.execute(
        select(Invitation.id)
        .where(Invitation.request_id.in_(in_cycle))
        .order_by(Invitation.id)
        .with_for_update()
    ).all()


def cut_answers_from_raters(cycle: Cycle) -> None:
    """Write the cycle's answers as anonymous responses and forget who gave which."""
    requests = list(
        db.session.scalars(
            select(FeedbackRequest).filter_by(cycle_id=cycle.id).order_by(FeedbackRequest.id)
        )
    )
    statement_ids = [statement.id for statement in cycle.framework.statements]
    answered = _every_answer(cycle, statement_ids)
    counts = np.zeros((len(requests), len(GROUPS)), dtype=np.int64)
    row_of = {feedback_request.id: row for row, feedback_request in enumerate(requests)}
    for answer in answered:
        counts[row_of[answer.request_id], GROUPS.index(answer.group)] += 1
    codes = storage_labels(counts, cycle.anonymity_threshold, cycle.manager_identifiable)
    labels = [[_LABELS.get(int(code)) for code in row] for row in codes]

    keep_summary(cycle, _in_memory(cycle, requests, answered))
    _delete_responses(cycle)
    kept = [
        (answer, label)
        for answer in answered
        if (label := labels[row_of[answer.request_id]][GROUPS.index(answer.group)]) is not None
    ]
    _shuffle(kept)
    _write(kept)
    for feedback_request, row in zip(requests, counts.tolist(), strict=True):
        feedback_request.response_counts = {
            group: n for group, n in zip(GROUPS, row, strict=True) if n
        }
    db.session.execute(
        update(Invitation)
        .where(Invitation.request_id.in_(select(FeedbackRequest.id).filter_by(cycle_id=cycle.id)))
        .values(sealed_answers=None),
        execution_options={"synchronize_session": False},
    )
    db.session.flush()
    db.session.expire_all()
    if cycle.answer_key_id:
        after_commit(_forget_everything_sealed(cycle.answer_key_id))


def _every_answer(cycle: Cycle, statement_ids: Sequence[int]) -> list[Answered]:
    """The self-assessments already stored, and every sealed submission: three queries for
    the whole cycle, none per request (a cycle may have 47,000)."""
    in_cycle = select(FeedbackRequest.id).filter_by(cycle_id=cycle.id)
    comments: dict[str, dict[int, str]] = {}
    for response_id, value_id, text in db.session.execute(
        select(Comment.response_id, Comment.value_id, Comment.text)
        .join(Response, Comment.response_id == Response.id)
        .where(Response.request_id.in_(in_cycle))
    ):
        comments.setdefault(response_id, {})[value_id] = text
    answered = [
        Answered(request_id, group, scores, comments.get(response_id, _NO_COMMENTS))
        for response_id, request_id, group, scores in db.session.execute(
            select(Response.id, Response.request_id, Response.group, Response.scores).where(
                Response.request_id.in_(in_cycle)
            )
        )
    ]
    key_id = cycle.answer_key_id or ""
    for invitation_id, request_id, group, sealed in db.session.execute(
        select(Invitation.id, Invitation.request_id, Invitation.group, Invitation.sealed_answers)
        .where(Invitation.request_id.in_(in_cycle), Invitation.status == SUBMITTED)
        .where(Invitation.sealed_answers.is_not(None))
    ):
        answers = Answers.from_draft(unseal(key_id, invitation_id, sealed))
        scores = pack_scores(answers.ratings, statement_ids)
        comments_given = {value_id: text for value_id, text in answers.comments.items() if text}
        answered.append(Answered(request_id, group, scores, comments_given or _NO_COMMENTS))
    return answered


def _in_memory(
    cycle: Cycle, requests: Sequence[FeedbackRequest], answered: Sequence[Answered]
) -> LoadedCycle:
    """Every answer as the engine's arrays, each under the group its rater was in."""
    framework = cycle.framework
    statements = framework.statements
    column_of = {statement.id: column for column, statement in enumerate(statements)}
    value_of = {value.id: index for index, value in enumerate(framework.values)}
    packed = np.frombuffer(b"".join(answer.scores for answer in answered), dtype=np.uint8)
    ratings = packed.reshape(len(answered), len(statements)).astype(np.float64)
    ratings[ratings == NO_RATING] = np.nan
    row_of = {feedback_request.id: row for row, feedback_request in enumerate(requests)}
    arrays = CycleArrays(
        ratings=ratings,
        subject=np.array([row_of[a.request_id] for a in answered], dtype=np.int64),
        group=np.array([GROUP_CODE[a.group] for a in answered], dtype=np.int8),
        statement_value=np.array([value_of[s.value_id] for s in statements], dtype=np.int64),
        statement_positive=np.array([s.positive for s in statements], dtype=bool),
        n_subjects=len(requests),
        n_values=len(framework.values),
        scale_points=len(framework.scale),
    )
    return LoadedCycle(
        arrays=arrays,
        request_ids=[feedback_request.id for feedback_request in requests],
        statement_ids=list(column_of),
        value_ids=list(value_of),
    )


def _delete_responses(cycle: Cycle) -> None:
    # Subqueries, not lists of ids: a cycle may hold more requests than SQLite takes
    # parameters in one statement.
    in_cycle = select(FeedbackRequest.id).filter_by(cycle_id=cycle.id)
    responses = select(Response.id).where(Response.request_id.in_(in_cycle))
    for statement in (
        delete(Comment).where(Comment.response_id.in_(responses)),
        delete(Response).where(Response.request_id.in_(in_cycle)),
    ):
        db.session.execute(statement, execution_options={"synchronize_session": False})


def _write(kept: Sequence[tuple[Answered, str]]) -> None:
    """Insert the responses in the order given (random), each with its scores packed, and
    their comments in random order too."""
    responses, comments = [], []
    for answer, label in kept:
        response_id = random_id()
        responses.append(
            {
                "id": response_id,
                "request_id": answer.request_id,
                "group": label,
                "scores": answer.scores,
            }
        )
        comments += [
            {"id": random_id(), "response_id": response_id, "value_id": value_id, "text": text}
            for value_id, text in answer.comments.items()
        ]
    _shuffle(comments)
    for model, rows in ((Response, responses), (Comment, comments)):
        if rows:
            db.session.execute(insert(model), rows)


def _forget_everything_sealed(key_id: str) -> Callable[[], None]:
    def forget() -> None:
        destroy_key(key_id)
        _forget_old_pages()

    return forget


def _forget_old_pages() -> None:
    """Leave no earlier copy of the rewritten rows in the database's own files.

    Best effort, after the commit: what it would clear is either sealed under the key just
    destroyed or the unlinked responses themselves, so a busy database only delays it.
    """
    engine = db.engine
    try:
        if engine.dialect.name == "sqlite":
            # secure_delete (set on every connection) zeroed what was deleted; the log holds
            # the transaction's pages until a checkpoint copies them in, so empty it now. On
            # the driver's own connection: through SQLAlchemy it would begin a transaction
            # (BEGIN IMMEDIATE here), inside which SQLite refuses any checkpoint.
            with engine.connect() as connection:
                driver = connection.connection.dbapi_connection
                busy, _, _ = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy:
                log.warning(
                    "After closing a cycle a reader kept the database's log; it "
                    "empties at the next checkpoint."
                )
        elif engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM invitation, response, comment, feedback_request")
    except OperationalError as error:
        log.warning("After closing a cycle the database could not be tidied yet: %s", error)


# ---------------------------------------------------------------- after the commit

_AFTER_COMMIT = "feedback360.after_commit"


def after_commit(action: Callable[[], None]) -> None:
    """Run action once the session's transaction has committed; drop it on a rollback."""
    db.session().info.setdefault(_AFTER_COMMIT, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for action in session.info.pop(_AFTER_COMMIT, []):
        action()


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
