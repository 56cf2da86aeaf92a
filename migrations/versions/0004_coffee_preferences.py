"""Coffee chats: the program's department preference, and "who else should I meet?".

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "coffee_department_preference",
                sa.Enum(
                    "same",
                    "different",
                    "none",
                    name="coffee_department_preference",
                    native_enum=False,
                    create_constraint=True,
                ),
                server_default="different",
                nullable=False,
            )
        )
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suggested_person_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_check_in_suggested_person_id_person"),
            "person",
            ["suggested_person_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_check_in_suggested_person_id_person"), type_="foreignkey"
        )
        batch_op.drop_column("suggested_person_id")
    with op.batch_alter_table("program", schema=None) as batch_op:
        # SQLite rebuilds the table: the enum's CHECK must go before its column does.
        batch_op.drop_constraint(
            batch_op.f("ck_program_coffee_department_preference"), type_="check"
        )
        batch_op.drop_column("coffee_department_preference")
