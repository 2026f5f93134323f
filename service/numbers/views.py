"""The ``/numbers`` endpoints: thin views that parse, call a query in one transaction, render."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from flask import Blueprint, Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from service import database
from service.database import session_scope
from service.models import Number
from service.numbers import queries
from service.numbers.fields import render, render_row
from service.numbers.listing import cursor_link_header, link_header, parse_list_query
from service.numbers.queries import NumberRow
from service.numbers.validation import Mode, NumberFields, parse_number
from service.payloads import JSON, MERGE_PATCH_JSON, read_json
from service.phone import digits_of
from service.problems import ConcurrentUpdate, NumberConflict, ResourceNotFound, StaleEtag
from service.settings import current_settings

bp = Blueprint("numbers", __name__, url_prefix="/numbers")

#: Attempts at a write without If-Match when concurrent writers keep bumping the version.
_WRITE_ATTEMPTS = 3


def etag_of(number: Number | NumberRow) -> str:
    """The strong entity tag of the number's current version (without quotes)."""
    return f"{number.id}.{number.version}"


def _read_fields(mode: Mode, number_id: int | None = None) -> NumberFields:
    accepted = (JSON, MERGE_PATCH_JSON) if mode is Mode.PATCH else (JSON,)
    return parse_number(read_json(accepted), mode, current_settings().currencies, url_id=number_id)


def _not_found(number_id: int) -> ResourceNotFound:
    return ResourceNotFound(f"There is no number with id {number_id}.")


async def _existing(session: AsyncSession, number_id: int) -> Number:
    """The number with this id; 404 when there is none."""
    number = await queries.get_number(session, number_id)
    if number is None:
        raise _not_found(number_id)
    return number


def _check_if_match(number: Number) -> int | None:
    """The version the client's If-Match requires (None without If-Match); 412 when stale."""
    if "If-Match" not in request.headers:
        return None
    if request.if_match.star_tag or request.if_match.contains(etag_of(number)):
        return number.version
    raise StaleEtag(
        f"The number {number.id} has changed since you read it (its ETag is now "
        f'"{etag_of(number)}"); fetch it again and reapply your change.'
    )


@asynccontextmanager
async def _unique_digits(value: str | None) -> AsyncIterator[None]:
    """Turn the database's unique-digits violation into a 409 naming the number that holds them."""
    try:
        yield
    except IntegrityError:
        if value is None:
            raise
        digits = digits_of(value)
        existing = await database.read(partial(queries.find_id_by_digits, digits=digits))
        raise NumberConflict(value, existing) from None


def _with_etag(number: Number | NumberRow, status: int = 200) -> Response:
    body = render(number) if isinstance(number, Number) else render_row(number)
    response = jsonify(body)
    response.status_code = status
    response.set_etag(etag_of(number))
    return response


@bp.get("")
async def list_numbers() -> ResponseReturnValue:
    """A page of the numbers for sale, filtered and sorted (json-server's dialect)."""
    settings = current_settings()
    query = parse_list_query(request.args, settings.max_page_size)
    page = await database.read(
        partial(queries.list_numbers, query=query, count_limit=settings.count_limit)
    )
    headers = {"X-Total-Count": str(page.total)}
    if not page.exact:
        headers["X-Total-Count-Exact"] = "false"
    if query.keyset:
        link = cursor_link_header(
            request.base_url,
            request.args,
            query,
            page.edges(query.order_by),
            page.more_before,
            page.more_after,
        )
    else:
        link = link_header(request.base_url, request.args, query, page.total, page.more_after)
    if link is not None:
        headers["Link"] = link
    return [render_row(row) for row in page.rows], 200, headers


@bp.post("")
async def create_number() -> ResponseReturnValue:
    """Put a new number on sale."""
    fields = _read_fields(Mode.CREATE)
    async with _unique_digits(fields.value), session_scope() as session:
        number = await queries.add_number(session, fields)
    response = _with_etag(number, 201)
    # Absolute, as json-server sends it (RFC 9110 allows either).
    response.headers["Location"] = url_for(".get_number", number_id=number.id, _external=True)
    return response


@bp.get("/<int:number_id>")
async def get_number(number_id: int) -> ResponseReturnValue:
    """One number, with its ETag; 304 when the client's copy is current."""
    number = await database.read(partial(queries.read_number, number_id=number_id))
    if number is None:
        raise _not_found(number_id)
    return _with_etag(number).make_conditional(request)


@bp.put("/<int:number_id>")
async def replace_number(number_id: int) -> ResponseReturnValue:
    """Replace every field of a number (no upsert: an unknown id is 404)."""
    return await _update(number_id, _read_fields(Mode.REPLACE, number_id))


@bp.patch("/<int:number_id>")
async def patch_number(number_id: int) -> ResponseReturnValue:
    """Change some fields of a number (JSON merge patch)."""
    return await _update(number_id, _read_fields(Mode.PATCH, number_id))


async def _update(number_id: int, fields: NumberFields) -> ResponseReturnValue:
    for _ in range(_WRITE_ATTEMPTS):
        required_version = None
        try:
            async with _unique_digits(fields.value), session_scope() as session:
                number = await _existing(session, number_id)
                required_version = _check_if_match(number)
                await queries.update_number(session, number, fields)
        except StaleDataError:
            # Another write committed between our read and our UPDATE ... WHERE version = ?.
            if required_version is not None:
                raise StaleEtag(
                    f"The number {number_id} was changed by another request; fetch it again."
                ) from None
            continue
        return _with_etag(number)
    raise ConcurrentUpdate(f"The number {number_id} kept changing while it was updated; retry.")


@bp.delete("/<int:number_id>")
async def delete_number(number_id: int) -> ResponseReturnValue:
    """Take a number off sale; 200 with the deleted number, 204 with ``Prefer: return=minimal``."""
    async with session_scope() as session:
        number = await _existing(session, number_id)
        required_version = _check_if_match(number)
        deleted = await queries.delete_number(session, number_id, required_version)
    if not deleted:
        if required_version is not None:
            raise StaleEtag(f"The number {number_id} was changed by another request.")
        raise _not_found(number_id)
    if _prefers_minimal():
        return "", 204, {"Preference-Applied": "return=minimal"}
    return render(number)


def _prefers_minimal() -> bool:
    """Whether the client sent RFC 7240's ``Prefer: return=minimal``."""
    preferences = ",".join(request.headers.getlist("Prefer"))
    return any(
        part.split(";", 1)[0].strip().replace(" ", "").lower() == "return=minimal"
        for part in preferences.split(",")
    )
