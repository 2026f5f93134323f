"""The numbers table.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Exact money: NUMERIC(10, 2) on PostgreSQL, whole cents on SQLite (whose NUMERIC is a float).
MONEY = sa.Numeric(10, 2).with_variant(sa.BigInteger(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "numbers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("value", sa.String(32), nullable=False),
        sa.Column("digits", sa.String(15), nullable=False),
        sa.Column("monthly_price", MONEY, nullable=False),
        sa.Column("setup_price", MONEY, nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_numbers"),
        sa.UniqueConstraint("digits", name="uq_numbers_digits"),
        sa.CheckConstraint("monthly_price >= 0", name="monthly_price_not_negative"),
        sa.CheckConstraint("setup_price >= 0", name="setup_price_not_negative"),
        sa.CheckConstraint("length(digits) BETWEEN 8 AND 15", name="digits_length"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("numbers")
