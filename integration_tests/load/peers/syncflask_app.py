"""BENCHMARK FIXTURE ONLY: the numbers reads as a synchronous Flask app would serve them.

``gunicorn -w 2 integration_tests.load.peers.syncflask_app:app``: plain Flask views, SQLAlchemy's
ORM over psycopg2, a ``with Session(...)`` per request, on gunicorn's sync workers (one request
at a time per process): what most Flask developers write. The engine is pooled like the
product's (``DB_POOL_SIZE`` connections per worker, no overflow, no pre-ping). Each read is
SQLAlchemy's default unit of work: BEGIN, the statements, and ROLLBACK when the session returns
its connection. The list counts the table (``count(*)``) for ``X-Total-Count``. Authentication
costs what the product's does (see :mod:`.models`), checked in a ``before_request`` hook.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request
from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.orm import sessionmaker

from integration_tests.load.peers.models import Number, User, accepts, money, principal_of
from service.auth.cache import UserCache
from service.auth.tokens import TokenError, read_token
from service.settings import Settings

settings = Settings.from_env()
engine = create_engine(
    make_url(settings.database_url).set(drivername="postgresql+psycopg2"),
    pool_size=settings.db_pool_size,
    max_overflow=0,
)
Session = sessionmaker(engine, expire_on_commit=False)
users = UserCache(settings.user_cache_seconds)

app = Flask(__name__)


def render(number: Number) -> dict[str, Any]:
    """A number on the wire (``monthyPrice``, sic, is the contract)."""
    return {
        "id": number.id,
        "value": number.value,
        "monthyPrice": money(number.monthly_price),
        "setupPrice": money(number.setup_price),
        "currency": number.currency,
    }


@app.before_request
def authenticate() -> None:
    """401 unless the request carries a valid token of an existing, active user."""
    if request.endpoint == "ready":
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        abort(401)
    try:
        claims = read_token(settings.secret_key, token)
    except TokenError:
        abort(401)
    found, principal = users.get(claims.user_id)
    if not found:
        with Session() as session:
            principal = principal_of(session.get(User, claims.user_id))
        users.put(claims.user_id, principal)
    if not accepts(principal, claims):
        abort(401)


@app.get("/health/ready")
def ready() -> dict[str, str]:
    """The database answers."""
    with Session() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok"}


@app.get("/numbers/<int:number_id>")
def get_number(number_id: int) -> dict[str, Any]:
    """One number; 404 when there is none."""
    with Session() as session:
        number = session.get(Number, number_id)
    if number is None:
        abort(404)
    return render(number)


@app.get("/numbers")
def list_numbers() -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    """A page of numbers by id, with the total in ``X-Total-Count``."""
    page = request.args.get("_page", 1, type=int)
    limit = request.args.get("_limit", 100, type=int)
    if page < 1 or not 1 <= limit <= settings.max_page_size:
        abort(400)
    with Session() as session:
        total = session.scalar(select(func.count()).select_from(Number))
        rows = session.scalars(
            select(Number).order_by(Number.id).offset((page - 1) * limit).limit(limit)
        ).all()
    return [render(number) for number in rows], 200, {"X-Total-Count": str(total)}
