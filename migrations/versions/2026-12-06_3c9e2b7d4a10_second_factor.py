"""A second factor for administrators and coaches: the authenticator's secret, the last
time step used (so that a code works once) and the hashes of the unused recovery codes.

Revision ID: 3c9e2b7d4a10
Revises: 0f1d5e7a9c21
Create Date: 2026-12-06 20:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "3c9e2b7d4a10"
down_revision = "0f1d5e7a9c21"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("recovery_code_hashes", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("recovery_code_hashes")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")
