"""People lists sort by family name: a stored sort key beside each name, indexed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from program.people.names import sort_name

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("sort_name", sa.String(length=200), nullable=True))
    person = sa.table("person", sa.column("id", sa.Integer), sa.column("name", sa.String))
    key = sa.table("person", sa.column("id", sa.Integer), sa.column("sort_name", sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(person.c.id, person.c.name)).all()
    if rows:
        conn.execute(
            key.update().where(key.c.id == sa.bindparam("pid")),
            [{"pid": pid, "sort_name": sort_name(name)} for pid, name in rows],
        )
    with op.batch_alter_table("person") as batch:
        batch.alter_column("sort_name", existing_type=sa.String(length=200), nullable=False)
        batch.create_index("ix_person_sort_name", ["sort_name"])


def downgrade():
    with op.batch_alter_table("person") as batch:
        batch.drop_index("ix_person_sort_name")
        batch.drop_column("sort_name")
