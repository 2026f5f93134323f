"""Scale the list to a million rows: sort indexes, digit search index, a maintained total.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Sortable columns. Ties are broken by id ascending in both directions, so each column needs
#: (column, id) for ascending sorts and (column, id DESC), read backwards, for descending ones.
SORTED = ("monthly_price", "setup_price", "currency")
#: Columns the list filters on. PostgreSQL indexes INCLUDE them, so that a filtered, sorted
#: page is found by an index-only scan and only its rows are read from the table.
FILTERED = ("currency", "digits", "monthly_price", "setup_price")


def _sort_indexes() -> list[tuple[str, list[Any], list[str]]]:
    """(name, key, included columns) of each sort index."""
    indexes: list[tuple[str, list[Any], list[str]]] = [
        ("ix_numbers_id_filters", [sa.column("id")], list(FILTERED))
    ]
    for column in SORTED:
        included = [c for c in FILTERED if c != column]
        indexes.append((f"ix_numbers_{column}_id", [sa.column(column), sa.column("id")], included))
        indexes.append(
            (f"ix_numbers_{column}_id_desc", [sa.column(column), sa.text("id DESC")], included)
        )
    return indexes


_PG_TRIGGERS = (
    """CREATE FUNCTION numbers_total_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE numbers_total SET total = total + (SELECT count(*) FROM inserted) WHERE id = 1;
  RETURN NULL;
END $$""",
    """CREATE FUNCTION numbers_total_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE numbers_total SET total = total - (SELECT count(*) FROM deleted) WHERE id = 1;
  RETURN NULL;
END $$""",
    """CREATE FUNCTION numbers_total_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE numbers_total SET total = 0 WHERE id = 1;
  RETURN NULL;
END $$""",
    """CREATE TRIGGER numbers_total_insert AFTER INSERT ON numbers
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
  EXECUTE FUNCTION numbers_total_after_insert()""",
    """CREATE TRIGGER numbers_total_delete AFTER DELETE ON numbers
  REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT
  EXECUTE FUNCTION numbers_total_after_delete()""",
    """CREATE TRIGGER numbers_total_truncate AFTER TRUNCATE ON numbers
  FOR EACH STATEMENT EXECUTE FUNCTION numbers_total_after_truncate()""",
)

_SQLITE_TRIGGERS = (
    """CREATE TRIGGER numbers_total_insert AFTER INSERT ON numbers BEGIN
         UPDATE numbers_total SET total = total + 1 WHERE id = 1; END""",
    """CREATE TRIGGER numbers_total_delete AFTER DELETE ON numbers BEGIN
         UPDATE numbers_total SET total = total - 1 WHERE id = 1; END""",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, key, included in _sort_indexes():
        op.create_index(name, "numbers", key, postgresql_include=included)
    op.create_table(
        "numbers_total",
        sa.Column("id", sa.SmallInteger(), primary_key=True),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("total >= 0", name="not_negative"),
    )
    op.execute("INSERT INTO numbers_total (id, total) SELECT 1, count(*) FROM numbers")
    if dialect == "postgresql":
        # Substring search on digits (value_like): trigram GIN index.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_numbers_digits_trgm ON numbers USING gin (digits gin_trgm_ops)")
    for statement in _PG_TRIGGERS if dialect == "postgresql" else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for name in ("insert", "delete", "truncate"):
            op.execute(f"DROP TRIGGER numbers_total_{name} ON numbers")
            op.execute(f"DROP FUNCTION numbers_total_after_{name}()")
        op.execute("DROP INDEX ix_numbers_digits_trgm")
    else:
        for name in ("insert", "delete"):
            op.execute(f"DROP TRIGGER numbers_total_{name}")
    op.drop_table("numbers_total")
    for name, _key, _included in _sort_indexes():
        op.drop_index(name, "numbers")
