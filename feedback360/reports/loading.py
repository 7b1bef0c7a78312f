"""Load a whole cycle's responses into the engine's arrays without an ORM object per rating."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
from sqlalchemy import bindparam, case, select

from feedback360.cycles.models import Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.models import Comment, FeedbackRequest, Response
from feedback360.feedback.packed import NO_RATING
from feedback360.frameworks.models import Statement, Value
from feedback360.groups import GROUPS
from feedback360.reports.engine.inputs import GROUP_CODE, CycleArrays

_PARTITION = 20_000  # responses fetched at a time


@dataclass(frozen=True)
class LoadedCycle:
    """The engine's arrays and the database ids behind their indices."""

    arrays: CycleArrays
    request_ids: list[int]  # subject index → FeedbackRequest.id
    statement_ids: list[int]  # column → Statement.id, in framework order
    value_ids: list[int]  # value index → Value.id, in framework order


def load_cycle(cycle_id: int, *, request_ids: Sequence[int] | None = None) -> LoadedCycle:
    """Every response of the cycle, or of the given requests, as one CycleArrays.

    Subjects are the cycle's feedback requests ordered by id, or request_ids in the order
    given. Rows are grouped by subject, then by group (self first); a response without
    ratings is a row of NaN. previous_value_scores is left None: reading the previous
    released reports is not done here yet.
    """
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise DomainError(f"There is no cycle {cycle_id}.")
    value_ids = _value_ids(cycle)
    statements = db.session.execute(
        select(Statement.id, Statement.value_id, Statement.positive, Statement.serious)
        .join(Value, Statement.value_id == Value.id)
        .where(Value.framework_id == cycle.framework_id)
        .order_by(Value.position, Statement.position)
    ).all()
    value_index = {value_id: index for index, value_id in enumerate(value_ids)}
    statement_ids = np.array([s.id for s in statements], dtype=np.int64)
    subjects = _subjects(cycle_id, request_ids)

    requests, codes, packed = _responses(cycle_id, request_ids, statement_ids)
    subject, known = _positions(subjects, requests)
    # A request started after the subjects were listed has no subject index: leave it out.
    kept = np.flatnonzero(known)
    subject, codes = subject[kept], codes[kept]
    if np.any(codes < 0):
        raise DomainError(f"Cycle {cycle_id} has a response from a rater group not in GROUPS.")
    # Rows grouped by subject, then group; lexsort is stable, so ties keep arrival order,
    # which is the order of the random response ids and so says nothing about the raters.
    order = np.lexsort((codes, subject))
    packed = packed[kept[order]]
    ratings = np.where(packed == NO_RATING, np.nan, packed)  # float64, NaN where no rating

    arrays = CycleArrays(
        ratings=ratings,
        subject=subject[order],
        group=codes[order].astype(np.int8),
        group_counts=_group_counts(subjects),
        statement_value=np.array([value_index[s.value_id] for s in statements], dtype=np.int64),
        statement_positive=np.array([s.positive for s in statements], dtype=bool),
        statement_serious=np.array([s.serious for s in statements], dtype=bool),
        n_subjects=len(subjects),
        n_values=len(value_ids),
        scale_points=len(cycle.framework.scale),
    )
    return LoadedCycle(
        arrays=arrays,
        request_ids=subjects.tolist(),
        statement_ids=statement_ids.tolist(),
        value_ids=value_ids,
    )


def _group_counts(subjects: np.ndarray) -> np.ndarray | None:
    """How many responses each group gave, per subject, as counted at the close; None for a
    cycle not closed yet (its responses are then counted from the rows)."""
    counted = (
        dict(
            db.session.execute(
                select(FeedbackRequest.id, FeedbackRequest.response_counts).where(
                    FeedbackRequest.id.in_(_literal_ids(subjects))
                )
            ).all()
        )
        if len(subjects)
        else {}
    )
    if len(subjects) == 0 or any(counted.get(int(s)) is None for s in subjects):
        return None
    counts = np.zeros((len(subjects), len(GROUPS)), dtype=np.int64)
    for row, request_id in enumerate(subjects.tolist()):
        for group, count in counted[request_id].items():
            counts[row, GROUPS.index(group)] = count
    return counts


def load_cycle_comments(
    cycle_id: int, request_id: int | None = None
) -> dict[int, list[tuple[int, str, str]]]:
    """Every request's comments (or one request's), by request id, in one query."""
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise DomainError(f"There is no cycle {cycle_id}.")
    value_index = {value_id: index for index, value_id in enumerate(_value_ids(cycle))}
    query = (
        select(Response.request_id, Comment.value_id, Response.group, Comment.text)
        .join(Response, Comment.response_id == Response.id)
        .join(FeedbackRequest, Response.request_id == FeedbackRequest.id)
        .where(FeedbackRequest.cycle_id == cycle_id)
        .order_by(Comment.id)  # random ids: a fixed order that says nothing of who wrote
    )
    if request_id is not None:
        query = query.where(FeedbackRequest.id == request_id)
    comments: dict[int, list[tuple[int, str, str]]] = {}
    for owner, value_id, group, text in db.session.execute(query):
        if value_id in value_index:
            comments.setdefault(owner, []).append((value_index[value_id], group, text))
    return comments


def _value_ids(cycle: Cycle) -> list[int]:
    query = select(Value.id).where(Value.framework_id == cycle.framework_id)
    return list(db.session.scalars(query.order_by(Value.position)))


def _subjects(cycle_id: int, request_ids: Sequence[int] | None) -> np.ndarray:
    """The subjects' request ids: the whole cycle by id, or the given ones, checked."""
    in_cycle = select(FeedbackRequest.id).where(FeedbackRequest.cycle_id == cycle_id)
    if request_ids is None:
        found = db.session.scalars(in_cycle.order_by(FeedbackRequest.id))
        return np.fromiter(found, dtype=np.int64)
    wanted = np.array([int(request_id) for request_id in request_ids], dtype=np.int64)
    if len(np.unique(wanted)) != len(wanted):
        raise DomainError("A feedback request is listed more than once.")
    found = set(db.session.scalars(in_cycle.where(FeedbackRequest.id.in_(_literal_ids(wanted)))))
    missing = [request_id for request_id in wanted.tolist() if request_id not in found]
    if missing:
        raise DomainError(f"Feedback request {missing[0]} is not part of cycle {cycle_id}.")
    return wanted


def _responses(
    cycle_id: int, request_ids: Sequence[int] | None, statement_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per response, in arrival order: request id, group code and its packed scores (uint8,
    NO_RATING where there is none).

    One statement, so one consistent snapshot even while raters are still submitting. Each
    response's scores are packed, a byte per statement (see feedback.packed), so the rows
    come back as they are stored and numpy reads their bytes in one piece.
    """
    query = (
        select(
            Response.request_id,
            case(GROUP_CODE, value=Response.group, else_=-1),
            Response.scores,
        )
        .join(FeedbackRequest, Response.request_id == FeedbackRequest.id)
        .where(FeedbackRequest.cycle_id == cycle_id)
    )
    if request_ids is not None:
        query = query.where(Response.request_id.in_(_literal_ids(request_ids)))
    width = len(statement_ids)
    requests, codes, blocks = [], [], []
    # On the driver's own cursor: SQLAlchemy's result rows cost more than the query for half
    # a million responses. The statement's only values are ids and the fixed group names.
    connection = db.session.connection()
    postgres = connection.dialect.name == "postgresql"
    compiled = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.driver_connection.cursor(  # type: ignore[union-attr]
        **({"name": "load_cycle", "binary": True} if postgres else {})  # server-side on PG
    )
    try:
        if postgres:
            cursor.itersize = _PARTITION
        cursor.execute(compiled)
        while partition := cursor.fetchmany(_PARTITION):
            count = len(partition)
            if any(len(row[2]) != width for row in partition):
                raise DomainError(f"Cycle {cycle_id} has a response not packed for its framework.")
            requests.append(np.fromiter(map(itemgetter(0), partition), np.int64, count))
            codes.append(np.fromiter(map(itemgetter(1), partition), np.int64, count))
            scores = b"".join(map(itemgetter(2), partition))
            blocks.append(np.frombuffer(scores, dtype=np.uint8).reshape(count, width))
    finally:
        cursor.close()
    if not blocks:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, width), np.uint8)
    return np.concatenate(requests), np.concatenate(codes), np.concatenate(blocks)


def _positions(keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each wanted value in keys (unsorted, unique), and whether it is there."""
    if len(keys) == 0:
        return np.zeros(len(wanted), dtype=np.int64), np.zeros(len(wanted), dtype=bool)
    by_value = np.argsort(keys, kind="stable")
    place = np.minimum(np.searchsorted(keys[by_value], wanted), len(keys) - 1)
    return by_value[place], keys[by_value[place]] == wanted


def _literal_ids(ids: Sequence[int] | np.ndarray):  # type: ignore[no-untyped-def]
    # Rendered into the SQL as integers, so thousands of ids meet no bound-parameter limit.
    return bindparam("ids", [int(i) for i in ids], expanding=True, literal_execute=True)
