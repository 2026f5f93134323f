"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from service import database
from service.auth import public
from service.problems import DATABASE_DOWN_ERRORS, DatabaseUnavailable

bp = Blueprint("health", __name__, url_prefix="/health")


@bp.get("/live")
@public
async def live() -> ResponseReturnValue:
    """The process is up and serving."""
    return {"status": "ok"}


@bp.get("/ready")
@public
async def ready() -> ResponseReturnValue:
    """The service can reach its database."""
    try:
        await database.ping()
    except DATABASE_DOWN_ERRORS:
        raise DatabaseUnavailable("The database does not answer; retry shortly.") from None
    return {"status": "ok"}
