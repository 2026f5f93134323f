"""Spread the maintained total over 16 rows, so concurrent creates do not queue on one row.

Every insert and delete updated the single row of ``numbers_total``, so concurrent creates
waited on its row lock until each other's commit. Now a row's count goes to slot ``id % 16``
and the total is the sum of the slots: consecutive ids land on different rows. A slot may go
below zero (a number created in one slot, another deleted from it); the sum cannot.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 16

_PG_FUNCTIONS = (
    # The slots a statement touches are locked in id order first: two multi-row statements
    # then cannot deadlock on each other's slots.
    f"""CREATE OR REPLACE FUNCTION numbers_total_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM numbers_total
    WHERE id IN (SELECT DISTINCT id % {SLOTS} FROM inserted) ORDER BY id FOR UPDATE;
  UPDATE numbers_total AS t SET total = t.total + c.n
    FROM (SELECT id % {SLOTS} AS slot, count(*) AS n FROM inserted GROUP BY 1) AS c
    WHERE t.id = c.slot;
  RETURN NULL;
END $$""",
    f"""CREATE OR REPLACE FUNCTION numbers_total_after_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM numbers_total
    WHERE id IN (SELECT DISTINCT id % {SLOTS} FROM deleted) ORDER BY id FOR UPDATE;
  UPDATE numbers_total AS t SET total = t.total - c.n
    FROM (SELECT id % {SLOTS} AS slot, count(*) AS n FROM deleted GROUP BY 1) AS c
    WHERE t.id = c.slot;
  RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION numbers_total_after_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE numbers_total SET total = 0;
  RETURN NULL;
END $$""",
)

_SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER numbers_total_insert AFTER INSERT ON numbers BEGIN
         UPDATE numbers_total SET total = total + 1 WHERE id = NEW.id % {SLOTS}; END""",
    f"""CREATE TRIGGER numbers_total_delete AFTER DELETE ON numbers BEGIN
         UPDATE numbers_total SET total = total - 1 WHERE id = OLD.id % {SLOTS}; END""",
)


def _recount(slots: int, first: int = 0) -> None:
    """Recount ``numbers_total`` into rows ``first`` .. ``first + slots - 1`` by ``id % slots``."""
    op.execute("DELETE FROM numbers_total")
    op.execute(
        f"INSERT INTO numbers_total (id, total) SELECT s.slot + {first}, "
        f"(SELECT count(*) FROM numbers WHERE id % {slots} = s.slot) FROM ("
        + " UNION ALL ".join(f"SELECT {slot} AS slot" for slot in range(slots))
        + ") AS s"
    )


def _single_row_triggers(postgresql: bool) -> tuple[str, ...]:
    """The triggers of revision 0003: one row, id 1."""
    if not postgresql:
        return tuple(
            trigger.replace(f"NEW.id % {SLOTS}", "1").replace(f"OLD.id % {SLOTS}", "1")
            for trigger in _SQLITE_TRIGGERS
        )
    return tuple(
        f"""CREATE OR REPLACE FUNCTION numbers_total_after_{kind}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE numbers_total SET total = total {sign} (SELECT count(*) FROM {table}) WHERE id = 1;
  RETURN NULL;
END $$"""
        for kind, sign, table in (("insert", "+", "inserted"), ("delete", "-", "deleted"))
    )


def _change(
    postgresql: bool, constraints: str, slots: int, first: int, triggers: tuple[str, ...]
) -> None:
    if not postgresql:  # SQLite rebuilds the table below: its triggers must not point at it
        for name in ("insert", "delete"):
            op.execute(f"DROP TRIGGER numbers_total_{name}")
    if constraints == "create":  # the rows must satisfy them first
        _recount(slots, first)
    with op.batch_alter_table("numbers_total") as batch:
        for name, condition in (("single_row", "id = 1"), ("not_negative", "total >= 0")):
            if constraints == "drop":
                batch.drop_constraint(name, type_="check")
            else:
                batch.create_check_constraint(name, condition)
    if constraints == "drop":
        _recount(slots, first)
    for statement in triggers:
        op.execute(statement)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    _change(postgresql, "drop", SLOTS, 0, _PG_FUNCTIONS if postgresql else _SQLITE_TRIGGERS)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    _change(postgresql, "create", 1, 1, _single_row_triggers(postgresql))
