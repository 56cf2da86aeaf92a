"""SAML 2.0 sign-in: the AuthnRequests waiting for their answer, and the assertions already
accepted (kept until they expire, so none is accepted twice).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saml_request",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("next_url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saml_request")),
    )
    op.create_index(op.f("ix_saml_request_created_at"), "saml_request", ["created_at"])
    op.create_table(
        "saml_seen",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saml_seen")),
    )
    op.create_index(op.f("ix_saml_seen_expires_at"), "saml_seen", ["expires_at"])


def downgrade():
    op.drop_index(op.f("ix_saml_seen_expires_at"), table_name="saml_seen")
    op.drop_table("saml_seen")
    op.drop_index(op.f("ix_saml_request_created_at"), table_name="saml_request")
    op.drop_table("saml_request")
