"""The change count of what a coffee round's preview is made from (`program.changes.POOL`): its
row, made as 0018 made the others'.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

GENERATION = sa.table(
    "data_generation",
    sa.column("topic", sa.String),
    sa.column("generation", sa.BigInteger),
    sa.column("epoch", sa.String),
)


def upgrade():
    op.bulk_insert(GENERATION, [{"topic": "pool", "generation": 0, "epoch": secrets.token_hex(16)}])


def downgrade():
    op.execute(GENERATION.delete().where(GENERATION.c.topic == "pool"))
