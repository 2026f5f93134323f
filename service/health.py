"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from service import database
from service.auth import public
from service.problems import database_accepts_writes

bp = Blueprint("health", __name__, url_prefix="/health")


@bp.get("/live")
@public
async def live() -> ResponseReturnValue:
    """The process is up and serving."""
    return {"status": "ok"}


@bp.get("/ready")
@public
async def ready() -> ResponseReturnValue:
    """The service can reach its database and the database accepts writes.

    Otherwise the database's error handlers answer: 503 with Retry-After while it cannot be
    reached, 503 without one while it refuses writes.
    """
    await database.probe()
    database_accepts_writes()
    return {"status": "ok"}
