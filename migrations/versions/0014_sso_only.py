"""Institution sign-in only: passwords off except for one break-glass administrator; and
whether someone on no roster gets an account at their first institution sign-in.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("institution_settings") as batch:
        batch.add_column(
            sa.Column("sso_only", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("break_glass_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "sso_self_registration", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch.create_foreign_key(
            batch.f("fk_institution_settings_break_glass_id_person"),
            "person",
            ["break_glass_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("institution_settings") as batch:
        batch.drop_constraint(
            batch.f("fk_institution_settings_break_glass_id_person"), type_="foreignkey"
        )
        batch.drop_column("sso_self_registration")
        batch.drop_column("break_glass_id")
        batch.drop_column("sso_only")
