"""Bulk mail is written when it is sent: a message may be queued as what to write (its
template and the ids its composer needs), with no subject or body yet.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WRITTEN_OR_COMPOSABLE = (
    "(subject IS NOT NULL AND body_text IS NOT NULL AND body_html IS NOT NULL) "
    "OR template IS NOT NULL"
)


def upgrade():
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("template", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch.alter_column("subject", existing_type=sa.String(length=300), nullable=True)
        batch.alter_column("body_text", existing_type=sa.Text(), nullable=True)
        batch.alter_column("body_html", existing_type=sa.Text(), nullable=True)
        batch.create_check_constraint(
            batch.f("ck_message_written_or_composable"), WRITTEN_OR_COMPOSABLE
        )


def downgrade():
    # The old schema cannot hold a message that is not written yet. Those still queued are
    # kept, marked failed with the reason, so an admin sees what was not sent.
    message = sa.table(
        "message",
        sa.column("subject", sa.String),
        sa.column("body_text", sa.Text),
        sa.column("body_html", sa.Text),
        sa.column("status", sa.String),
        sa.column("last_error", sa.Text),
        sa.column("sent_at", sa.DateTime),
    )
    op.get_bind().execute(
        message.update()
        .where(message.c.body_text.is_(None))
        .values(
            subject="(not written: the database was downgraded before it was sent)",
            body_text="",
            body_html="",
            status=sa.case((message.c.sent_at.is_(None), "failed"), else_=message.c.status),
            last_error="Not sent: the database was downgraded before this message was written.",
        )
    )
    with op.batch_alter_table("message") as batch:
        batch.drop_constraint(batch.f("ck_message_written_or_composable"), type_="check")
        batch.alter_column("body_html", existing_type=sa.Text(), nullable=False)
        batch.alter_column("body_text", existing_type=sa.Text(), nullable=False)
        batch.alter_column("subject", existing_type=sa.String(length=300), nullable=False)
        batch.drop_column("details")
        batch.drop_column("template")
