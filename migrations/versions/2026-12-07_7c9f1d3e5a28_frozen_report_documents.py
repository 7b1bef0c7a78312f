"""Reports frozen at the build and rendered afterwards: each report keeps its document (what
it shows, from one analysis of the whole cycle), and its page and PDF may wait for a worker
or for the first reader.

Revision ID: 7c9f1d3e5a28
Revises: 6b8e0c2d4f17
Create Date: 2026-12-07 04:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "7c9f1d3e5a28"
down_revision = "6b8e0c2d4f17"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report") as batch_op:
        batch_op.add_column(sa.Column("document", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("rendered_at", sa.DateTime(), nullable=True))
        batch_op.alter_column("html", existing_type=sa.Text(), nullable=True)
        batch_op.alter_column("pdf", existing_type=sa.LargeBinary(), nullable=True)
    # Every report built before was rendered at its build.
    op.execute("UPDATE report SET rendered_at = built_at")


def downgrade():
    op.execute("DELETE FROM report WHERE html IS NULL OR pdf IS NULL")  # frozen, never rendered
    with op.batch_alter_table("report") as batch_op:
        batch_op.alter_column("pdf", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column("html", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("rendered_at")
        batch_op.drop_column("document")
