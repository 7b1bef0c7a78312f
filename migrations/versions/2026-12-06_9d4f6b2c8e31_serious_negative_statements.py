"""Serious "We will not" statements: the framework version names them, and a report puts
any that all raters have seen often enough on its first page.

Statements already loaded stay not serious: a loaded version never changes, so the
framework file that names them is loaded as a new version.

Revision ID: 9d4f6b2c8e31
Revises: 3c9e2b7d4a10
Create Date: 2026-12-06 23:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "9d4f6b2c8e31"
down_revision = "3c9e2b7d4a10"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("statement", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("serious", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("statement", schema=None) as batch_op:
        batch_op.drop_column("serious")
