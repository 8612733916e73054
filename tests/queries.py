"""Counting the SQL statements a piece of code runs (for no-N+1 tests)."""

from contextlib import contextmanager

from sqlalchemy import event as sa_event

from seminar.extensions import db


@contextmanager
def count_queries():
    """Collects every statement sent on the current app's engine while the block runs."""
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", before)
