"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from service import database, serving
from service.auth import public
from service.problems import Problem, database_accepts_writes

bp = Blueprint("health", __name__, url_prefix="/health")


class Draining(Problem):
    """This server is shutting down (503): a load balancer should send requests elsewhere."""

    status = 503
    type_slug = "draining"

    def __init__(self) -> None:
        super().__init__(
            "This server is shutting down; other replicas take new requests.",
            headers={"Retry-After": "1"},
        )


@bp.get("/live")
@public
async def live() -> ResponseReturnValue:
    """The process is up and serving."""
    return {"status": "ok"}


@bp.get("/ready")
@public
async def ready() -> ResponseReturnValue:
    """The service can reach its database, the database accepts writes, and it is not stopping.

    Otherwise the database's error handlers answer: 503 with Retry-After while it cannot be
    reached, 503 without one while it refuses writes; and 503 "draining" once SIGTERM came.
    """
    if serving.is_draining():
        raise Draining()
    await database.probe()
    database_accepts_writes()
    return {"status": "ok"}
