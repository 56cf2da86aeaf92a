"""Term roster entries: each person as they were in a term, for reports of past terms.

The backfill records every term from the memberships that were live during it (whenever they
were created: the old reports went wrong by reading creation times), with each person's
department and stage as they are now (nothing older was kept) and their cohort in that term.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "term_roster_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("is_trainee", sa.Boolean(), nullable=False),
        sa.Column("is_mentor", sa.Boolean(), nullable=False),
        sa.Column("formal_track", sa.Boolean(), nullable=False),
        sa.Column("coffee_track", sa.Boolean(), nullable=False),
        sa.Column("department", sa.String(length=120), nullable=True),
        sa.Column("stage", sa.String(length=40), nullable=True),
        sa.Column("cohort", sa.String(length=120), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_term_roster_entry_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["term_id"],
            ["term.id"],
            name=op.f("fk_term_roster_entry_term_id_term"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_term_roster_entry")),
        sa.UniqueConstraint(
            "term_id", "person_id", name=op.f("uq_term_roster_entry_term_id_person_id")
        ),
    )
    with op.batch_alter_table("term_roster_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_term_roster_entry_person_id"), ["person_id"], unique=False
        )
    _backfill()


def _backfill():
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            """
            SELECT t.id AS term_id, m.person_id, m.role, m.formal_track, m.coffee_track,
                   d.name AS department, p.stage, c.name AS cohort
            FROM term t
            JOIN membership m ON m.program_id = t.program_id
            JOIN person p ON p.id = m.person_id
            LEFT JOIN department d ON d.id = p.department_id
            LEFT JOIN cohort_member cm ON cm.term_id = t.id AND cm.person_id = m.person_id
            LEFT JOIN cohort c ON c.id = cm.cohort_id
            WHERE m.role IN ('trainee', 'mentor')
              AND (m.ended_at IS NULL OR m.ended_at >= t.starts_on)
            ORDER BY t.id, m.person_id
            """
        )
    ).all()
    entries = {}
    for row in rows:
        entry = entries.setdefault(
            (row.term_id, row.person_id),
            {
                "term_id": row.term_id,
                "person_id": row.person_id,
                "is_trainee": False,
                "is_mentor": False,
                "formal_track": False,
                "coffee_track": False,
                "department": row.department,
                "stage": row.stage,
                "cohort": row.cohort,
                "recorded_at": datetime.now(UTC),
            },
        )
        entry["is_trainee" if row.role == "trainee" else "is_mentor"] = True
        entry["formal_track"] = entry["formal_track"] or bool(row.formal_track)
        entry["coffee_track"] = entry["coffee_track"] or bool(row.coffee_track)
    if entries:
        table = sa.table(
            "term_roster_entry",
            *(
                sa.column(name)
                for name in (
                    "term_id",
                    "person_id",
                    "is_trainee",
                    "is_mentor",
                    "formal_track",
                    "coffee_track",
                    "department",
                    "stage",
                    "cohort",
                    "recorded_at",
                )
            ),
        )
        op.bulk_insert(table, list(entries.values()))


def downgrade():
    with op.batch_alter_table("term_roster_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_term_roster_entry_person_id"))
    op.drop_table("term_roster_entry")
