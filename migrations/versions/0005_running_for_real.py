"""Running for real: names unique in every alphabet, bouncing addresses, never-twice sending.

- program.name_key and cohort.name_key: the case-folded name, unique (SQLite's lower() knows
  only ASCII, so uniqueness by lower(name) let a second "Ärzte" through to a crash);
- person.email_bouncing_at / email_bounce_reason: an address the mail server refused for good;
- message.attempt_started_at: set just before a message is handed to the mail server.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _key(name):
    # The same rule as program.db.name_key, frozen here as this migration knew it.
    return unicodedata.normalize("NFKC", " ".join(name.split())).casefold()


def _backfill(table):
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, name FROM {table}")).all()  # noqa: S608
    for row in rows:
        bind.execute(
            sa.text(f"UPDATE {table} SET name_key = :key WHERE id = :id"),  # noqa: S608
            {"key": _key(row.name), "id": row.id},
        )


def upgrade():
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=200), nullable=True))
    _backfill("program")
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_program_name"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_program_name_key"), ["name_key"])

    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=120), nullable=True))
    _backfill("cohort")
    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=120), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_cohort_term_id_name"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_cohort_term_id_name_key"), ["term_id", "name_key"]
        )

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_bouncing_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("email_bounce_reason", sa.String(length=500), nullable=True))

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attempt_started_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("attempt_started_at")

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("email_bounce_reason")
        batch_op.drop_column("email_bouncing_at")

    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_cohort_term_id_name_key"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_cohort_term_id_name"), ["term_id", "name"])
        batch_op.drop_column("name_key")

    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_program_name_key"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_program_name"), ["name"])
        batch_op.drop_column("name_key")
