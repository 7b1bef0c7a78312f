"""Submission receipts, and one self-assessment per request, kept by the database.

Revision ID: 28b6dfb26b78
Revises: 1b2e523836b9
Create Date: 2026-11-23 17:08:46.959013

"""

import sqlalchemy as sa
from alembic import op

revision = "28b6dfb26b78"
down_revision = "1b2e523836b9"
branch_labels = None
depends_on = None

SELF_ONLY = sa.text("\"group\" = 'self'")


def upgrade():
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
    # Invitations answered before this revision get their receipts too.
    op.execute(
        "INSERT INTO submission_receipt (invitation_id) "
        "SELECT id FROM invitation WHERE status = 'submitted'"
    )
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.create_index(
            "uq_response_self",
            ["request_id"],
            unique=True,
            sqlite_where=SELF_ONLY,
            postgresql_where=SELF_ONLY,
        )


def downgrade():
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index("uq_response_self", sqlite_where=SELF_ONLY, postgresql_where=SELF_ONLY)
    op.drop_table("submission_receipt")
