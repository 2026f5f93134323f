"""Revocable tokens and a per-client login throttle.

``users.token_version`` is bumped by a password change or a deactivation; tokens carry the
version they were issued at, so older ones stop working. ``login_failures.client`` records the
address a failure came from, so that one client's failures lock out that client only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("token_version", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "login_failures", sa.Column("client", sa.String(64), server_default="", nullable=False)
    )
    op.create_index(
        "ix_login_failures_username_client_failed_at",
        "login_failures",
        ["username", "client", "failed_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_login_failures_username_client_failed_at", "login_failures")
    with op.batch_alter_table("login_failures") as batch:
        batch.drop_column("client")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_version")
