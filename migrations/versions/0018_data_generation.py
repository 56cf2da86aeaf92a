"""Counts of committed changes to what the reports read and what pairs are judged from (see
`program.changes`): a page knows in one query that what it kept still holds.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "data_generation",
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("topic", name=op.f("pk_data_generation")),
    )
    # The topics of this release (program.changes.TOPICS), written out: a migration is not
    # changed by a later release's code.
    op.bulk_insert(
        table,
        [
            {"topic": topic, "generation": 0, "epoch": secrets.token_hex(16)}
            for topic in ("reports", "pairs")
        ],
    )


def downgrade():
    op.drop_table("data_generation")
