"""A synthetic organisation's cycle: answers made with numpy, written fast to a scratch database."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import insert, select

from feedback360.accounts.models import Person
from feedback360.cycles.models import Cycle
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.frameworks.models import Statement, Value
from feedback360.frameworks.services import bundled_framework, load_framework, read_framework_file
from feedback360.groups import GROUPS
from feedback360.reports.engine.inputs import GROUP_CODE, CycleArrays

# Each subject: a self-assessment and 10 raters.
RESPONSES_PER_SUBJECT = {
    "self": 1,
    "line_manager": 1,
    "peer": 4,
    "direct_report": 3,
    "other": 2,
}
NOT_SEEN_SHARE = 0.08


@dataclass(frozen=True)
class Framework:
    """The shipped MPS 2006 framework as the engine sees it."""

    statement_ids: np.ndarray  # in framework order
    statement_value: np.ndarray
    statement_positive: np.ndarray
    n_values: int
    scale_points: int


@dataclass(frozen=True)
class Answers:
    """Every response of the synthetic cycle; score 0 is "not seen"."""

    scores: np.ndarray  # int8 (n_responses, n_statements)
    subject: np.ndarray  # int32 (n_responses,)
    group: np.ndarray  # int8 (n_responses,), a GROUP_CODE
    response_ids: list[str]  # random hex, as the app stores them

    def arrays(self, framework: Framework, n_subjects: int) -> CycleArrays:
        ratings = self.scores.astype(np.float64)
        ratings[self.scores == 0] = np.nan
        return CycleArrays(
            ratings=ratings,
            subject=self.subject.astype(np.int64),
            group=self.group,
            statement_value=framework.statement_value,
            statement_positive=framework.statement_positive,
            n_subjects=n_subjects,
            n_values=framework.n_values,
            scale_points=framework.scale_points,
        )


def load_mps_framework() -> tuple[Cycle, Framework]:
    """Load the shipped framework into the current app's database and open a cycle on it."""
    framework, _ = load_framework(read_framework_file(bundled_framework("mps-2006")))
    cycle = create_cycle("Benchmark 2026", framework, min_raters=10, max_raters=15)
    db.session.commit()
    statements = framework.statements
    # Packed scores follow the order load_cycle reads the statements in: check it is this one.
    in_order = db.session.scalars(
        select(Statement.id)
        .join(Value, Statement.value_id == Value.id)
        .where(Value.framework_id == framework.id)
        .order_by(Value.position, Statement.position)
    ).all()
    if [s.id for s in statements] != list(in_order):
        raise RuntimeError("framework.statements is not in the framework's order")
    value_index = {value.id: index for index, value in enumerate(framework.values)}
    return cycle, Framework(
        statement_ids=np.array([s.id for s in statements], dtype=np.int64),
        statement_value=np.array([value_index[s.value_id] for s in statements], dtype=np.int64),
        statement_positive=np.array([s.positive for s in statements], dtype=bool),
        n_values=len(framework.values),
        scale_points=len(framework.scale),
    )


def make_answers(
    n_subjects: int,
    framework: Framework,
    seed: int = 2026,
    per_subject: dict[str, int] = RESPONSES_PER_SUBJECT,
) -> Answers:
    """Ratings with a subject effect, a statement effect and rater noise, 8% "not seen".

    per_subject gives each subject's responses by group, their own included.
    """
    rng = np.random.default_rng(seed)
    codes = np.repeat(
        np.array([GROUP_CODE[g] for g in GROUPS], dtype=np.int8),
        [per_subject.get(g, 0) for g in GROUPS],
    )
    per_subject = len(codes)
    n_statements = len(framework.statement_ids)
    subject = np.repeat(np.arange(n_subjects, dtype=np.int32), per_subject)
    group = np.tile(codes, n_subjects)
    # Positive statements seen often, negative ones rarely; each subject a little different.
    base = np.where(framework.statement_positive, 3.7, 1.9) + rng.normal(0, 0.3, n_statements)
    person = rng.normal(0, 0.4, n_subjects)[subject]
    sign = np.where(framework.statement_positive, 1.0, -1.0)
    latent = base + person[:, None] * sign + rng.normal(0, 0.8, (len(subject), n_statements))
    scores = np.clip(np.rint(latent), 1, framework.scale_points).astype(np.int8)
    scores[rng.random(scores.shape) < NOT_SEEN_SHARE] = 0
    own = group == GROUP_CODE["self"]
    scores[own] = np.where(scores[own] == 0, 3, scores[own])  # nobody has not seen themself
    raw = rng.bytes(16 * len(subject))
    response_ids = [raw[i : i + 16].hex() for i in range(0, len(raw), 16)]
    return Answers(scores=scores, subject=subject, group=group, response_ids=response_ids)


def write_people_and_requests(cycle: Cycle, n_subjects: int) -> np.ndarray:
    """One person and one feedback request per subject; returns the request ids by subject."""
    db.session.execute(
        insert(Person),
        [
            {"id": 1000 + n, "name": f"Subject {n}", "email": f"subject{n}@example.org"}
            for n in range(n_subjects)
        ],
    )
    db.session.execute(
        insert(FeedbackRequest),
        [
            {"id": 5000 + n, "cycle_id": cycle.id, "subject_id": 1000 + n, "self_assessed": True}
            for n in range(n_subjects)
        ],
    )
    db.session.commit()
    return 5000 + np.arange(n_subjects)


def _response_rows(answers: Answers, framework: Framework, request_ids: np.ndarray) -> list[tuple]:
    """(id, request id, group, packed scores) per response, in response id order.

    The ids are random, so this order is as random as the close's shuffle makes it in the
    app, and the primary key index grows at its end. Packed as feedback.packed does: a byte
    per statement in the framework's order, 0 for "not seen".
    """
    if answers.scores.shape[1] != len(framework.statement_ids):
        raise ValueError("the answers are not for this framework's statements")
    order = np.argsort(np.array(answers.response_ids)).tolist()
    requests = request_ids[answers.subject].tolist()
    groups = [GROUPS[code] for code in answers.group.tolist()]
    packed = answers.scores.astype(np.uint8)
    return [
        (answers.response_ids[row], requests[row], groups[row], packed[row].tobytes())
        for row in order
    ]


def write_sqlite(answers: Answers, framework: Framework, request_ids: np.ndarray) -> None:
    """One executemany on the driver connection: no ORM object per row."""
    connection = db.session.connection()
    connection.exec_driver_sql(
        'INSERT INTO response (id, request_id, "group", scores) VALUES (?, ?, ?, ?)',
        _response_rows(answers, framework, request_ids),
    )
    db.session.commit()


def write_postgres(answers: Answers, framework: Framework, request_ids: np.ndarray) -> None:
    """COPY FROM STDIN, a row at a time through psycopg, which writes bytes as bytea."""
    cursor = db.session.connection().connection.driver_connection.cursor()
    # Foreign keys are checked by a trigger per row; the generated rows are consistent by
    # construction, so the scratch database skips those checks while loading.
    cursor.execute("SET LOCAL session_replication_role = replica")
    with cursor.copy('COPY response (id, request_id, "group", scores) FROM STDIN') as copy:
        for row in _response_rows(answers, framework, request_ids):
            copy.write_row(row)
    db.session.commit()
