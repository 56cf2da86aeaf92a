"""Outcomes: measures defined by deans and admins, a term's file of their values (kept for its
preview until applied), and each person's value.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outcome_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_key", sa.String(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "numeric",
                "categorical",
                name="measure_kind",
                native_enum=False,
                create_constraint=True,
                length=11,
            ),
            nullable=False,
        ),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column(
            "better",
            sa.Enum(
                "higher",
                "lower",
                "neither",
                name="better_direction",
                native_enum=False,
                create_constraint=True,
                length=7,
            ),
            nullable=False,
        ),
        sa.Column("favourable", sa.String(length=120), nullable=True),
        sa.Column("minimum_group", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind = 'numeric' OR favourable IS NOT NULL",
            name=op.f("ck_outcome_measure_categorical_has_favourable"),
        ),
        sa.CheckConstraint(
            "minimum_group >= 5", name=op.f("ck_outcome_measure_minimum_group_at_least_5")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_measure")),
        sa.UniqueConstraint("name_key", name=op.f("uq_outcome_measure_name_key")),
    )
    op.create_table(
        "outcome_upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term_slug", sa.String(length=60), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["person.id"],
            name=op.f("fk_outcome_upload_uploaded_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_upload")),
    )
    op.create_table(
        "outcome_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("term_slug", sa.String(length=60), nullable=False),
        sa.Column("number", sa.Float(), nullable=True),
        sa.Column("answer", sa.String(length=120), nullable=True),
        sa.Column("upload_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(number IS NULL) <> (answer IS NULL)",
            name=op.f("ck_outcome_value_a_number_or_an_answer"),
        ),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["outcome_measure.id"],
            name=op.f("fk_outcome_value_measure_id_outcome_measure"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_outcome_value_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["outcome_upload.id"],
            name=op.f("fk_outcome_value_upload_id_outcome_upload"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_value")),
        sa.UniqueConstraint(
            "measure_id",
            "person_id",
            "term_slug",
            name=op.f("uq_outcome_value_measure_id_person_id_term_slug"),
        ),
    )
    with op.batch_alter_table("outcome_value", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outcome_value_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outcome_value_term_slug"), ["term_slug"], unique=False)


def downgrade():
    with op.batch_alter_table("outcome_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcome_value_term_slug"))
        batch_op.drop_index(batch_op.f("ix_outcome_value_person_id"))
    op.drop_table("outcome_value")
    op.drop_table("outcome_upload")
    op.drop_table("outcome_measure")
