"""Results shared by every process serving the database: reports and round previews built
once, read by the others (see `program.kept`).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kept_result",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_kept_result")),
    )
    with op.batch_alter_table("kept_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kept_result_kind"), ["kind"], unique=False)


def downgrade():
    with op.batch_alter_table("kept_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kept_result_kind"))
    op.drop_table("kept_result")
