"""Chats people start themselves: listings (open to a coffee), asks, outside referrals,
guests; a chat keeps its program and may have no round.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "listing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("topics_key", sa.String(length=1000), nullable=False),
        sa.Column("asks_per_month", sa.SmallInteger(), nullable=False),
        sa.Column(
            "meets",
            sa.Enum(
                "either",
                "in_person",
                "video",
                name="meets",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "asks_per_month >= 1 AND asks_per_month <= 10",
            name=op.f("ck_listing_asks_per_month_range"),
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["person.id"],
            name=op.f("fk_listing_added_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_listing_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_listing_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing")),
        sa.UniqueConstraint(
            "program_id", "person_id", name=op.f("uq_listing_program_id_person_id")
        ),
    )
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listing_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_listing_program_id"), ["program_id"], unique=False)

    op.create_table(
        "ask",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("referred_by_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "accepted",
                "declined",
                "closed",
                "withdrawn",
                name="ask_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("nudged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'accepted') = (chat_id IS NOT NULL)", name=op.f("ck_ask_yes_has_chat")
        ),
        sa.CheckConstraint(
            "(status = 'waiting') = (answered_at IS NULL)", name=op.f("ck_ask_answer_has_time")
        ),
        sa.CheckConstraint("asker_id <> recipient_id", name=op.f("ck_ask_not_self")),
        sa.ForeignKeyConstraint(
            ["asker_id"], ["person.id"], name=op.f("fk_ask_asker_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chat.id"], name=op.f("fk_ask_chat_id_chat"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
            name=op.f("fk_ask_program_id_program"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["person.id"],
            name=op.f("fk_ask_recipient_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referred_by_id"],
            ["person.id"],
            name=op.f("fk_ask_referred_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ask")),
    )
    with op.batch_alter_table("ask", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ask_asker_id"), ["asker_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ask_program_id"), ["program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ask_recipient_id"), ["recipient_id"], unique=False)
        batch_op.create_index(
            "uq_ask_waiting",
            ["asker_id", "recipient_id"],
            unique=True,
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        )

    op.create_table(
        "outside_referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("check_in_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("suggested_by", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_in_id"],
            ["check_in.id"],
            name=op.f("fk_outside_referral_check_in_id_check_in"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_outside_referral_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outside_referral")),
        sa.UniqueConstraint("person_id", "email", name=op.f("uq_outside_referral_person_id_email")),
    )
    with op.batch_alter_table("outside_referral", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outside_referral_person_id"), ["person_id"], unique=False
        )

    with op.batch_alter_table("chat", schema=None) as batch_op:
        batch_op.add_column(sa.Column("program_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE chat SET program_id = "
        "(SELECT round.program_id FROM round WHERE round.id = chat.round_id)"
    )
    with op.batch_alter_table("chat", schema=None) as batch_op:
        batch_op.alter_column("program_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("round_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f("ix_chat_program_id"), ["program_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_chat_program_id_program"),
            "program",
            ["program_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("chat_member", schema=None) as batch_op:
        batch_op.alter_column("round_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_foreign_key(
            "fk_chat_member_chat",
            "chat",
            ["chat_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_guest", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("outside_referral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outside_referral_person_id"))

    op.drop_table("outside_referral")
    with op.batch_alter_table("ask", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_ask_waiting",
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        )
        batch_op.drop_index(batch_op.f("ix_ask_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_ask_program_id"))
        batch_op.drop_index(batch_op.f("ix_ask_asker_id"))

    op.drop_table("ask")
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listing_program_id"))
        batch_op.drop_index(batch_op.f("ix_listing_person_id"))

    op.drop_table("listing")

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("is_guest")

    # Chats without a round (self-started) have no place in the older schema.
    op.execute("DELETE FROM chat_member WHERE round_id IS NULL")
    op.execute("DELETE FROM check_in WHERE chat_id IN (SELECT id FROM chat WHERE round_id IS NULL)")
    op.execute("DELETE FROM meeting WHERE chat_id IN (SELECT id FROM chat WHERE round_id IS NULL)")
    op.execute("DELETE FROM chat WHERE round_id IS NULL")
    with op.batch_alter_table("chat_member", schema=None) as batch_op:
        batch_op.drop_constraint("fk_chat_member_chat", type_="foreignkey")
        batch_op.alter_column("round_id", existing_type=sa.INTEGER(), nullable=False)

    with op.batch_alter_table("chat", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_chat_program_id_program"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_chat_program_id"))
        batch_op.alter_column("round_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("program_id")
