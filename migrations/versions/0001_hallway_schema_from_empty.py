"""Hallway schema from empty: every table of the domain model.

People and departments; programs, memberships, terms and cohorts; the formal track (availability,
assignments); the coffee-chat track (enrollments, rounds, chats); check-ins; the outbox; the audit
log; institution settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_key", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department")),
        sa.UniqueConstraint("name_key", name=op.f("uq_department_name_key")),
    )
    op.create_table(
        "institution_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("suppression_threshold", sa.Integer(), nullable=False),
        sa.Column("mail_sender", sa.String(length=254), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_institution_settings_single_row")),
        sa.CheckConstraint(
            "suppression_threshold >= 5", name=op.f("ck_institution_settings_threshold_minimum")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_settings")),
    )
    op.create_table(
        "program",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("silent_after_days", sa.Integer(), nullable=False),
        sa.Column(
            "formal_department_preference",
            sa.Enum(
                "same",
                "different",
                "none",
                name="department_preference",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("coffee_cadence_days", sa.Integer(), nullable=False),
        sa.Column("coffee_repeat_window", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "coffee_cadence_days > 0", name=op.f("ck_program_coffee_cadence_days_positive")
        ),
        sa.CheckConstraint(
            "coffee_repeat_window IS NULL OR coffee_repeat_window >= 0",
            name=op.f("ck_program_coffee_repeat_window_not_negative"),
        ),
        sa.CheckConstraint("length(slug) > 0", name=op.f("ck_program_slug_not_empty")),
        sa.CheckConstraint(
            "silent_after_days > 0", name=op.f("ck_program_silent_after_days_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program")),
        sa.UniqueConstraint("name", name=op.f("uq_program_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_program_slug")),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column(
            "stage",
            sa.Enum(
                "MS1",
                "MS2",
                "MS3",
                "MS4",
                "PGY1",
                "PGY2",
                "PGY3",
                "PGY4",
                "PGY5",
                "PGY6",
                "PGY7",
                "fellow",
                "junior_faculty",
                "mid_career_faculty",
                "senior_faculty",
                "staff",
                name="career_stage",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("is_dean", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("security_stamp", sa.String(length=32), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_person_email_lowercase")),
        sa.CheckConstraint("length(name) > 0", name=op.f("ck_person_name_not_empty")),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_person_department_id_department"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("email", name=op.f("uq_person_email")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_department_id"), ["department_id"], unique=False
        )

    op.create_table(
        "round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("scheduled_for", sa.Date(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft", "published", name="round_status", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("quality", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'published') = (published_at IS NOT NULL)",
            name=op.f("ck_round_published_has_time"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_round_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round")),
        sa.UniqueConstraint("program_id", "number", name=op.f("uq_round_program_id_number")),
    )
    op.create_table(
        "term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_on > starts_on", name=op.f("ck_term_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_term_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_term")),
        sa.UniqueConstraint("program_id", "slug", name=op.f("uq_term_program_id_slug")),
    )
    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "active",
                "ended",
                name="assignment_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "end_reason",
            sa.Enum(
                "term_over",
                "no_fault_rematch",
                "left_program",
                name="end_reason",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("fit", sa.Double(), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rematch_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rematch_requested_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(status = 'ended') = (end_reason IS NOT NULL AND ended_at IS NOT NULL)",
            name=op.f("ck_assignment_ended_has_reason"),
        ),
        sa.CheckConstraint(
            "status = 'proposed' OR started_at IS NOT NULL",
            name=op.f("ck_assignment_started_has_time"),
        ),
        sa.CheckConstraint("mentor_id <> trainee_id", name=op.f("ck_assignment_not_self")),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["person.id"],
            name=op.f("fk_assignment_mentor_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rematch_requested_by_id"],
            ["person.id"],
            name=op.f("fk_assignment_rematch_requested_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["term_id"], ["term.id"], name=op.f("fk_assignment_term_id_term"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["trainee_id"],
            ["person.id"],
            name=op.f("fk_assignment_trainee_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment")),
    )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignment_mentor_id"), ["mentor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignment_trainee_id"), ["trainee_id"], unique=False)
        batch_op.create_index(
            "uq_assignment_live_trainee",
            ["term_id", "trainee_id"],
            unique=True,
            sqlite_where=sa.text("status <> 'ended'"),
            postgresql_where=sa.text("status <> 'ended'"),
        )

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["person.id"],
            name=op.f("fk_audit_event_actor_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_audit_event_program_id_program"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_program_id"), ["program_id"], unique=False)

    op.create_table(
        "availability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("accepting", sa.Boolean(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(accepting IS NULL) = (answered_at IS NULL)",
            name=op.f("ck_availability_answer_has_time"),
        ),
        sa.CheckConstraint(
            "accepting OR capacity = 0", name=op.f("ck_availability_capacity_only_when_accepting")
        ),
        sa.CheckConstraint(
            "capacity >= 0 AND capacity <= 50", name=op.f("ck_availability_capacity_range")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_availability_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["term_id"], ["term.id"], name=op.f("fk_availability_term_id_term"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability")),
        sa.UniqueConstraint("term_id", "person_id", name=op.f("uq_availability_term_id_person_id")),
    )
    with op.batch_alter_table("availability", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_availability_person_id"), ["person_id"], unique=False)

    op.create_table(
        "chat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_chat_round_id_round"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat")),
        sa.UniqueConstraint("id", "round_id", name=op.f("uq_chat_id_round_id")),
    )
    with op.batch_alter_table("chat", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_round_id"), ["round_id"], unique=False)

    op.create_table(
        "cohort",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["term_id"], ["term.id"], name=op.f("fk_cohort_term_id_term"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort")),
        sa.UniqueConstraint("id", "term_id", name=op.f("uq_cohort_id_term_id")),
        sa.UniqueConstraint("term_id", "name", name=op.f("uq_cohort_term_id_name")),
    )
    op.create_table(
        "enrollment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enrolled_by_id", sa.Integer(), nullable=True),
        sa.Column("consent_note", sa.String(length=300), nullable=True),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("snooze_reason", sa.String(length=40), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrolled_by_id"],
            ["person.id"],
            name=op.f("fk_enrollment_enrolled_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_enrollment_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_enrollment_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment")),
    )
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrollment_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            "uq_enrollment_open",
            ["program_id", "person_id"],
            unique=True,
            sqlite_where=sa.text("withdrawn_at IS NULL"),
            postgresql_where=sa.text("withdrawn_at IS NULL"),
        )

    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "coordinator",
                "mentor",
                "trainee",
                name="role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_membership_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_membership_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint(
            "person_id", "program_id", "role", name=op.f("uq_membership_person_id_program_id_role")
        ),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_program_id"), ["program_id"], unique=False)

    op.create_table(
        "chat_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "position >= 0 AND position <= 2", name=op.f("ck_chat_member_position_range")
        ),
        sa.ForeignKeyConstraint(
            ["chat_id", "round_id"],
            ["chat.id", "chat.round_id"],
            name=op.f("fk_chat_member_chat_id_chat"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_chat_member_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_member")),
        sa.UniqueConstraint("chat_id", "position", name=op.f("uq_chat_member_chat_id_position")),
        sa.UniqueConstraint(
            "round_id", "person_id", name=op.f("uq_chat_member_round_id_person_id")
        ),
    )
    with op.batch_alter_table("chat_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_member_person_id"), ["person_id"], unique=False)

    op.create_table(
        "check_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "met",
                "scheduled",
                "not_yet",
                "wont_happen",
                name="check_in_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("met_on", sa.Date(), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column(
            "led_to",
            sa.Enum(
                "collaboration",
                "referral",
                "opportunity",
                "advice_acted_on",
                name="led_to",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("private_note", sa.Text(), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "led_to IS NULL OR status = 'met'", name=op.f("ck_check_in_led_to_only_if_met")
        ),
        sa.CheckConstraint(
            "met_on IS NULL OR status = 'met'", name=op.f("ck_check_in_met_on_only_if_met")
        ),
        sa.CheckConstraint(
            "rating IS NULL OR status = 'met'", name=op.f("ck_check_in_rating_only_if_met")
        ),
        sa.CheckConstraint(
            "(assignment_id IS NULL) <> (chat_id IS NULL)",
            name=op.f("ck_check_in_exactly_one_pairing"),
        ),
        sa.CheckConstraint(
            "(status IS NULL) = (answered_at IS NULL)", name=op.f("ck_check_in_answer_has_time")
        ),
        sa.CheckConstraint(
            "rating IS NULL OR (rating >= 1 AND rating <= 5)", name=op.f("ck_check_in_rating_1_5")
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
            name=op.f("fk_check_in_assignment_id_assignment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chat.id"], name=op.f("fk_check_in_chat_id_chat"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_check_in_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in")),
        sa.UniqueConstraint(
            "person_id",
            "assignment_id",
            "period_start",
            name=op.f("uq_check_in_person_id_assignment_id_period_start"),
        ),
        sa.UniqueConstraint("person_id", "chat_id", name=op.f("uq_check_in_person_id_chat_id")),
    )
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_check_in_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_check_in_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_check_in_person_id"), ["person_id"], unique=False)

    op.create_table(
        "cohort_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id", "term_id"],
            ["cohort.id", "cohort.term_id"],
            name=op.f("fk_cohort_member_cohort_id_cohort"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_cohort_member_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_member")),
        sa.UniqueConstraint(
            "term_id", "person_id", name=op.f("uq_cohort_member_term_id_person_id")
        ),
    )
    with op.batch_alter_table("cohort_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cohort_member_cohort_id"), ["cohort_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cohort_member_person_id"), ["person_id"], unique=False)

    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("check_in_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "sending",
                "sent",
                "failed",
                name="message_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'sent') = (sent_at IS NOT NULL)", name=op.f("ck_message_sent_has_time")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_message_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
            name=op.f("fk_message_assignment_id_assignment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chat.id"], name=op.f("fk_message_chat_id_chat"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["check_in_id"],
            ["check_in.id"],
            name=op.f("fk_message_check_in_id_check_in"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_message_program_id_program"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["person.id"],
            name=op.f("fk_message_recipient_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_message_dedupe_key")),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index("ix_message_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_program_id"), ["program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_recipient_id"), ["recipient_id"], unique=False)


def downgrade():
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_message_program_id"))
        batch_op.drop_index(batch_op.f("ix_message_kind"))
        batch_op.drop_index("ix_message_due")

    op.drop_table("message")
    with op.batch_alter_table("cohort_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cohort_member_person_id"))
        batch_op.drop_index(batch_op.f("ix_cohort_member_cohort_id"))

    op.drop_table("cohort_member")
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_in_person_id"))
        batch_op.drop_index(batch_op.f("ix_check_in_chat_id"))
        batch_op.drop_index(batch_op.f("ix_check_in_assignment_id"))

    op.drop_table("check_in")
    with op.batch_alter_table("chat_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_member_person_id"))

    op.drop_table("chat_member")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_program_id"))

    op.drop_table("membership")
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_enrollment_open",
            sqlite_where=sa.text("withdrawn_at IS NULL"),
            postgresql_where=sa.text("withdrawn_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_enrollment_person_id"))

    op.drop_table("enrollment")
    op.drop_table("cohort")
    with op.batch_alter_table("chat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_round_id"))

    op.drop_table("chat")
    with op.batch_alter_table("availability", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_person_id"))

    op.drop_table("availability")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_program_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))

    op.drop_table("audit_event")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_assignment_live_trainee",
            sqlite_where=sa.text("status <> 'ended'"),
            postgresql_where=sa.text("status <> 'ended'"),
        )
        batch_op.drop_index(batch_op.f("ix_assignment_trainee_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_mentor_id"))

    op.drop_table("assignment")
    op.drop_table("term")
    op.drop_table("round")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_department_id"))

    op.drop_table("person")
    op.drop_table("program")
    op.drop_table("institution_settings")
    op.drop_table("department")
