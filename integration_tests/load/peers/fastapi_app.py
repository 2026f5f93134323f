"""BENCHMARK FIXTURE ONLY: the numbers reads as FastAPI + SQLAlchemy async (asyncpg) serve them.

``uvicorn integration_tests.load.peers.fastapi_app:app --workers 1``. The code follows FastAPI's
and SQLAlchemy's own documentation: one ``AsyncEngine`` pooled like the product
(``DB_POOL_SIZE`` connections, no overflow, no pre-ping), a session per request as a
dependency, the bearer token as a security dependency, Pydantic response models. Each read is
SQLAlchemy's default unit of work: BEGIN, the statements, and ROLLBACK when the session returns
its connection. The list counts the table (``count(*)``) for ``X-Total-Count``. Authentication
costs what the product's does (see :mod:`.models`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from integration_tests.load.peers.models import Number, User, accepts, money, principal_of
from service.auth.cache import UserCache
from service.auth.tokens import TokenError, read_token
from service.auth.users import Principal
from service.settings import Settings

settings = Settings.from_env()
engine = create_async_engine(settings.database_url, pool_size=settings.db_pool_size, max_overflow=0)
sessions = async_sessionmaker(engine, expire_on_commit=False)
users = UserCache(settings.user_cache_seconds)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Close the pool's connections at shutdown."""
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


async def get_session() -> AsyncIterator[AsyncSession]:
    """One session per request."""
    async with sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def current_user(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(HTTPBearer())],
    session: SessionDep,
) -> Principal:
    """The bearer of a valid token whose user may still use it; else 401."""
    try:
        claims = read_token(settings.secret_key, credentials.credentials)
    except TokenError as error:
        raise HTTPException(401, str(error), headers=_CHALLENGE) from None
    found, principal = users.get(claims.user_id)
    if not found:
        principal = principal_of(await session.get(User, claims.user_id))
        users.put(claims.user_id, principal)
    if not accepts(principal, claims):
        raise HTTPException(401, "The token's user cannot use it.", headers=_CHALLENGE)
    return principal


UserDep = Annotated[Principal, Depends(current_user)]
Money = Annotated[Decimal, PlainSerializer(money, return_type=str)]


class NumberOut(BaseModel):
    """A number on the wire (``monthyPrice``, sic, is the contract)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    value: str
    monthyPrice: Money = Field(validation_alias="monthly_price")
    setupPrice: Money = Field(validation_alias="setup_price")
    currency: str


@app.get("/health/ready")
async def ready(session: SessionDep) -> dict[str, str]:
    """The database answers."""
    await session.execute(text("SELECT 1"))
    return {"status": "ok"}


@app.get("/numbers/{number_id}", response_model=NumberOut)
async def get_number(number_id: int, session: SessionDep, _user: UserDep) -> Number:
    """One number; 404 when there is none."""
    number = await session.get(Number, number_id)
    if number is None:
        raise HTTPException(404, f"There is no number with id {number_id}.")
    return number


@app.get("/numbers", response_model=list[NumberOut])
async def list_numbers(
    response: Response,
    session: SessionDep,
    _user: UserDep,
    page: Annotated[int, Query(alias="_page", ge=1)] = 1,
    limit: Annotated[int, Query(alias="_limit", ge=1, le=settings.max_page_size)] = 100,
) -> list[Number]:
    """A page of numbers by id, with the total in ``X-Total-Count``."""
    total = await session.scalar(select(func.count()).select_from(Number))
    rows = await session.scalars(
        select(Number).order_by(Number.id).offset((page - 1) * limit).limit(limit)
    )
    response.headers["X-Total-Count"] = str(total)
    return list(rows)
