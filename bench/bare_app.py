"""The bare Flask app `bench.http` measures Hallway against: hello, and one INSERT into the same
database through a SQLAlchemy engine (the least a page that writes can cost)."""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask

from program.config import normalise_database_url

engine = sa.create_engine(normalise_database_url(os.environ["DATABASE_URL"]))
hits = sa.Table(
    "bench_hit",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float),
)
try:
    hits.create(engine, checkfirst=True)
except sa.exc.DatabaseError:
    # Both gunicorn workers import this at once; on a new database the other one may have
    # created the table between the check and the CREATE.
    if not sa.inspect(engine).has_table("bench_hit"):
        raise

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"


@app.post("/insert")
def insert() -> str:
    with engine.begin() as conn:
        conn.execute(sa.insert(hits).values(at=0.0))
    return "ok"
