"""Raters from the staff list; an outside address or another line manager waits for approval.

Existing invitations were nominated by their request's subject and need no approval.

Revision ID: 7a11ed5a1f0e
Revises: 5ea1ed0c105e
Create Date: 2026-12-06 20:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "7a11ed5a1f0e"
down_revision = "5ea1ed0c105e"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("outside_raters", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.alter_column("outside_raters", server_default=None)
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nominated_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("approval_needed", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("approved_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_invitation_nominated_by_id_person"), "person", ["nominated_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_invitation_approved_by_id_person"), "person", ["approved_by_id"], ["id"]
        )
    op.execute(
        "UPDATE invitation SET nominated_by_id = (SELECT subject_id FROM feedback_request "
        "WHERE feedback_request.id = invitation.request_id)"
    )


def downgrade():
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_invitation_approved_by_id_person"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_invitation_nominated_by_id_person"), type_="foreignkey"
        )
        batch_op.drop_column("approved_by_id")
        batch_op.drop_column("approval_needed")
        batch_op.drop_column("nominated_by_id")
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.drop_column("outside_raters")
