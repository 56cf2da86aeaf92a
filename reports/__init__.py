"""Semester reports: metrics, statistics, suppression and the HTML/PDF/CSV builders.

Reads data (through SQLAlchemy Core on a connection it is given), never writes it, and never
imports Flask: the views and the `flask report` command only choose what to build and send it.
"""
