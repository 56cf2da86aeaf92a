"""How much e-mail each person wants (everything, or essential only).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "mail_preference",
                sa.Enum(
                    "all",
                    "essential",
                    name="mail_preference",
                    native_enum=False,
                    create_constraint=True,
                ),
                server_default="all",
                nullable=False,
            )
        )


def downgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        # SQLite rebuilds the table: the enum's CHECK must go before its column does.
        batch_op.drop_constraint(batch_op.f("ck_person_mail_preference"), type_="check")
        batch_op.drop_column("mail_preference")
