"""The term survey: a survey per term, a response per person invited, and each program's survey
settings (when it opens, its response target, up to three questions of its own).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("survey_days_before_end", sa.Integer(), server_default="14", nullable=False)
        )
        batch_op.add_column(
            sa.Column("survey_target_percent", sa.Integer(), server_default="70", nullable=False)
        )
        batch_op.add_column(
            sa.Column("survey_questions", sa.Text(), server_default="[]", nullable=False)
        )
        batch_op.create_check_constraint(
            "survey_days_before_end_1_60", "survey_days_before_end BETWEEN 1 AND 60"
        )
        batch_op.create_check_constraint(
            "survey_target_percent_1_100", "survey_target_percent BETWEEN 1 AND 100"
        )
    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("instrument", sa.String(length=40), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("target_percent", sa.SmallInteger(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("reminders_sent", sa.SmallInteger(), nullable=False),
        sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("closes_on >= opens_on", name=op.f("ck_survey_closes_after_opening")),
        sa.CheckConstraint(
            "reminders_sent BETWEEN 0 AND 2", name=op.f("ck_survey_at_most_two_reminders")
        ),
        sa.CheckConstraint("target_percent BETWEEN 1 AND 100", name=op.f("ck_survey_target_1_100")),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_survey_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["term_id"], ["term.id"], name=op.f("fk_survey_term_id_term"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey")),
        sa.UniqueConstraint("term_id", name=op.f("uq_survey_term_id")),
    )
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_program_id"), ["program_id"], unique=False)
    op.create_table(
        "survey_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("class_year", sa.String(length=40), nullable=False),
        sa.Column("in_formal", sa.Boolean(), nullable=False),
        sa.Column("in_coffee", sa.Boolean(), nullable=False),
        sa.Column("is_mentor", sa.Boolean(), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("formal_satisfaction", sa.SmallInteger(), nullable=True),
        sa.Column("coffee_satisfaction", sa.SmallInteger(), nullable=True),
        sa.Column("career_person", sa.Boolean(), nullable=True),
        sa.Column("outside_people", sa.String(length=8), nullable=True),
        sa.Column("led_to", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("mentor_load", sa.String(length=20), nullable=True),
        sa.Column("own_answers", sa.JSON(none_as_null=True), nullable=True),
        sa.CheckConstraint(
            "(answered_at IS NULL) = (career_person IS NULL)",
            name=op.f("ck_survey_response_answered_has_answers"),
        ),
        sa.CheckConstraint(
            "coffee_satisfaction IS NULL OR coffee_satisfaction BETWEEN 0 AND 5",
            name=op.f("ck_survey_response_coffee_satisfaction_0_5"),
        ),
        sa.CheckConstraint(
            "coffee_satisfaction IS NULL OR in_coffee",
            name=op.f("ck_survey_response_coffee_if_in_it"),
        ),
        sa.CheckConstraint(
            "formal_satisfaction IS NULL OR formal_satisfaction BETWEEN 0 AND 5",
            name=op.f("ck_survey_response_formal_satisfaction_0_5"),
        ),
        sa.CheckConstraint(
            "formal_satisfaction IS NULL OR in_formal",
            name=op.f("ck_survey_response_formal_if_in_it"),
        ),
        sa.CheckConstraint(
            "mentor_load IS NULL OR is_mentor",
            name=op.f("ck_survey_response_load_only_for_mentors"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_survey_response_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_survey_response_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_response")),
        sa.UniqueConstraint(
            "survey_id", "person_id", name=op.f("uq_survey_response_survey_id_person_id")
        ),
    )
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_response_person_id"), ["person_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_response_person_id"))
    op.drop_table("survey_response")
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_program_id"))
    op.drop_table("survey")
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_program_survey_target_percent_1_100"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("ck_program_survey_days_before_end_1_60"), type_="check"
        )
        batch_op.drop_column("survey_questions")
        batch_op.drop_column("survey_target_percent")
        batch_op.drop_column("survey_days_before_end")
