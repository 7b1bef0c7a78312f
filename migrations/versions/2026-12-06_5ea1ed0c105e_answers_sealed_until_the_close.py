"""Answers sealed until the close, then stored unlinked: no dates, random order, pooled labels.

- Each cycle gets an answer key id; raters' drafts are sealed under the key (a file outside
  the database, made here) and the plain-text draft column goes.
- Submission receipts go: the invitation's own status claims a submission once.
- Responses lose their date, and every response, rating and comment is written again in
  random order, so neither row order nor pages follow the order of submission.
- In closed and released cycles each request keeps how many responses each group gave, and
  a response whose group is not shown on its own in the report is relabelled "pooled" (a
  group of one is never stored under its own name). Responses that no report can show are
  kept, as pooled, because the organisation summary of these older cycles is worked out
  from them when it is first viewed.

The sealing uses the app's own feedback360.feedback.sealing, so that a draft sealed here
opens in the app; the relabelling uses the engine's plan of columns (rules 1 to 4).

Revision ID: 5ea1ed0c105e
Revises: 28b6dfb26b78
Create Date: 2026-12-06 18:30:00

"""

import json
import random
import secrets
from datetime import date

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "5ea1ed0c105e"
down_revision = "28b6dfb26b78"
branch_labels = None
depends_on = None

GROUPS = ("self", "line_manager", "peer", "direct_report", "other")
POOLED = "pooled"
CLOSED_STATES = ("closed", "released")
_shuffle = random.SystemRandom().shuffle

cycle = sa.table(
    "cycle",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("answer_key_id", sa.String),
    sa.column("anonymity_threshold", sa.Integer),
    sa.column("manager_identifiable", sa.Boolean),
)
feedback_request = sa.table(
    "feedback_request",
    sa.column("id", sa.Integer),
    sa.column("cycle_id", sa.Integer),
    sa.column("response_counts", sa.JSON),
)
invitation = sa.table(
    "invitation",
    sa.column("id", sa.Integer),
    sa.column("request_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("group", sa.String),
    sa.column("draft", sa.JSON),
    sa.column("sealed_answers", sa.LargeBinary),
)
response = sa.table(
    "response",
    sa.column("id", sa.String),
    sa.column("request_id", sa.Integer),
    sa.column("group", sa.String),
)
rating = sa.table(
    "rating",
    sa.column("response_id", sa.String),
    sa.column("statement_id", sa.Integer),
    sa.column("score", sa.Integer),
)
comment = sa.table(
    "comment",
    sa.column("id", sa.String),
    sa.column("response_id", sa.String),
    sa.column("value_id", sa.Integer),
    sa.column("text", sa.Text),
)


def upgrade():
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answer_key_id", sa.String(length=32), nullable=True))
    with op.batch_alter_table("feedback_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_counts", sa.JSON(), nullable=True))
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_answers", sa.LargeBinary(), nullable=True))
    connection = op.get_bind()
    for (cycle_id,) in connection.execute(sa.select(cycle.c.id)).all():
        connection.execute(
            cycle.update().where(cycle.c.id == cycle_id).values(answer_key_id=secrets.token_hex(16))
        )
    _seal_drafts(connection)
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_column("draft")
    op.drop_table("submission_receipt")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("submitted_on")
    _relabel_closed_cycles(connection)
    _write_again_in_random_order(connection)


def _seal_drafts(connection):
    """Drafts of open cycles sealed under their cycle's key; those of closed cycles, which can
    no longer be submitted, are dropped."""
    rows = connection.execute(
        sa.select(invitation.c.id, invitation.c.draft, cycle.c.status, cycle.c.answer_key_id)
        .join(feedback_request, invitation.c.request_id == feedback_request.c.id)
        .join(cycle, feedback_request.c.cycle_id == cycle.c.id)
        .where(invitation.c.draft.is_not(None))
    ).all()
    if not rows:
        return
    from feedback360.feedback import sealing  # the app's format, so the app can open them

    for invitation_id, draft, status, key_id in rows:
        sealed = None
        if status not in CLOSED_STATES and draft:
            draft = json.loads(draft) if isinstance(draft, str) else draft
            sealing.make_key(key_id)
            sealed = sealing.seal(key_id, invitation_id, draft)
        connection.execute(
            invitation.update()
            .where(invitation.c.id == invitation_id)
            .values(sealed_answers=sealed, draft=None)
        )


def _relabel_closed_cycles(connection):
    from feedback360.disclosure import plan_columns  # rules 1 to 4, as the app

    closed = connection.execute(
        sa.select(cycle.c.id, cycle.c.anonymity_threshold, cycle.c.manager_identifiable).where(
            cycle.c.status.in_(CLOSED_STATES)
        )
    ).all()
    for cycle_id, k, identifiable in closed:
        request_ids = (
            connection.execute(
                sa.select(feedback_request.c.id)
                .where(feedback_request.c.cycle_id == cycle_id)
                .order_by(feedback_request.c.id)
            )
            .scalars()
            .all()
        )
        if not request_ids:
            continue
        row_of = {request_id: row for row, request_id in enumerate(request_ids)}
        counts = np.zeros((len(request_ids), len(GROUPS)), dtype=np.int64)
        for request_id, group, count in connection.execute(
            sa.select(response.c.request_id, response.c.group, sa.func.count())
            .where(response.c.request_id.in_(request_ids))
            .group_by(response.c.request_id, response.c.group)
        ):
            if group in GROUPS:
                counts[row_of[request_id], GROUPS.index(group)] = count
        _, _, column_shown = plan_columns(counts, k, bool(identifiable))
        for request_id, row in row_of.items():
            connection.execute(
                feedback_request.update()
                .where(feedback_request.c.id == request_id)
                .values(
                    response_counts={
                        group: int(n) for group, n in zip(GROUPS, counts[row], strict=True) if n
                    }
                )
            )
            hidden = [
                group
                for code, group in enumerate(GROUPS)
                if group != "self" and counts[row, code] and not column_shown[row, code]
            ]
            if hidden:
                connection.execute(
                    response.update()
                    .where(response.c.request_id == request_id, response.c.group.in_(hidden))
                    .values(group=POOLED)
                )


def _write_again_in_random_order(connection):
    responses = [dict(row._mapping) for row in connection.execute(sa.select(response))]
    if not responses:
        return
    ratings = [dict(row._mapping) for row in connection.execute(sa.select(rating))]
    comments = [dict(row._mapping) for row in connection.execute(sa.select(comment))]
    connection.execute(rating.delete())
    connection.execute(comment.delete())
    connection.execute(response.delete())
    _shuffle(responses)
    place = {row["id"]: n for n, row in enumerate(responses)}
    ratings.sort(key=lambda row: (place[row["response_id"]], row["statement_id"]))
    _shuffle(comments)
    for table, rows in ((response, responses), (rating, ratings), (comment, comments)):
        if rows:
            connection.execute(table.insert(), rows)


def downgrade():
    """Back to dates, receipts and plain drafts. Responses get today's date (theirs was not
    kept); drafts and submissions still sealed are opened again where their cycle's key
    exists (submissions become responses, as they were then), and are lost where it does
    not."""
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "submitted_on",
                sa.Date(),
                nullable=False,
                server_default=sa.literal(date.today().isoformat()),
            )
        )
    op.create_table(
        "submission_receipt",
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_submission_receipt_invitation_id_invitation"),
        ),
        sa.PrimaryKeyConstraint("invitation_id", name=op.f("pk_submission_receipt")),
    )
    op.execute(
        "INSERT INTO submission_receipt (invitation_id) "
        "SELECT id FROM invitation WHERE status = 'submitted'"
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft", sa.JSON(), nullable=True))
    connection = op.get_bind()
    _open_drafts(connection)
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.alter_column("submitted_on", server_default=None)
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_column("sealed_answers")
    with op.batch_alter_table("feedback_request", schema=None) as batch_op:
        batch_op.drop_column("response_counts")
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.drop_column("answer_key_id")


def _open_drafts(connection):
    rows = connection.execute(
        sa.select(
            invitation.c.id,
            invitation.c.request_id,
            invitation.c.group,
            invitation.c.status,
            invitation.c.sealed_answers,
            cycle.c.answer_key_id,
        )
        .join(feedback_request, invitation.c.request_id == feedback_request.c.id)
        .join(cycle, feedback_request.c.cycle_id == cycle.c.id)
        .where(invitation.c.sealed_answers.is_not(None))
    ).all()
    if not rows:
        return
    from feedback360.feedback import sealing

    submitted = []
    for invitation_id, request_id, group, status, sealed, key_id in rows:
        try:
            answers = sealing.unseal(key_id, invitation_id, sealed)
        except sealing.AnswersUnreadable:
            continue
        if status == "submitted":
            submitted.append((request_id, group, answers))
        else:
            connection.execute(
                invitation.update().where(invitation.c.id == invitation_id).values(draft=answers)
            )
    _shuffle(submitted)  # as responses were stored then: cut from the invitation
    for request_id, group, answers in submitted:
        response_id = secrets.token_hex(16)
        connection.execute(
            response.insert().values(id=response_id, request_id=request_id, group=group)
        )
        for statement_id, score in answers.get("ratings", {}).items():
            connection.execute(
                rating.insert().values(
                    response_id=response_id,
                    statement_id=int(statement_id),
                    score=None if score == "na" else int(score),
                )
            )
        for value_id, text in answers.get("comments", {}).items():
            connection.execute(
                comment.insert().values(
                    id=secrets.token_hex(16),
                    response_id=response_id,
                    value_id=int(value_id),
                    text=text,
                )
            )
