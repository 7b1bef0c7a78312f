"""Single sign-on: the provider's subject (`sub`) linked to a person at their first sign-in.

Revision ID: 0f1d5e7a9c21
Revises: 7a11ed5a1f0e
Create Date: 2026-12-06 22:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0f1d5e7a9c21"
down_revision = "7a11ed5a1f0e"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("oidc_subject", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_person_oidc_subject"), ["oidc_subject"])


def downgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_person_oidc_subject"), type_="unique")
        batch_op.drop_column("oidc_subject")
