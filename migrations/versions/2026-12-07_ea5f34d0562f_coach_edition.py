"""The coach's edition of a personal report: its page and its page for print, kept at
build, and its PDF, kept once a coach first downloads it.

Reports built before stay without one (the columns are empty), and their coach reads the
subject's copy, as before.

Revision ID: ea5f34d0562f
Revises: 9d4f6b2c8e31
Create Date: 2026-12-07 01:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "ea5f34d0562f"
down_revision = "9d4f6b2c8e31"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coach_html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("coach_print", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("coach_pdf", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("coach_pdf")
        batch_op.drop_column("coach_print")
        batch_op.drop_column("coach_html")
