"""Single sign-on: each person's identities at their institution's providers, by the
provider's stable identifier (not the e-mail address, which can change).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name_id", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_sign_in_identity_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_identity")),
        sa.UniqueConstraint(
            "person_id", "provider", name=op.f("uq_sign_in_identity_person_id_provider")
        ),
        sa.UniqueConstraint(
            "provider", "subject", name=op.f("uq_sign_in_identity_provider_subject")
        ),
    )
    op.create_index(op.f("ix_sign_in_identity_name_id"), "sign_in_identity", ["name_id"])


def downgrade():
    op.drop_index(op.f("ix_sign_in_identity_name_id"), table_name="sign_in_identity")
    op.drop_table("sign_in_identity")
