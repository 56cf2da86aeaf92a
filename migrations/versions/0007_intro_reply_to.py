"""Introductions that connect people: a message can carry a Reply-To (the partners).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("reply_to", sa.String(length=1000), nullable=True))


def downgrade():
    with op.batch_alter_table("message") as batch:
        batch.drop_column("reply_to")
