"""The models under asyncio: what the database computes is loaded with the write, never lazily."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

from integration_tests.api_client import new_value
from integration_tests.in_process import app_settings, prepare_database
from service.database import open_database
from service.models import Number
from service.numbers import queries
from service.numbers.validation import NumberFields

#: SQLite's CURRENT_TIMESTAMP counts whole seconds: the update must come in a later one.
CLOCK_STEP_SECONDS = 1.1


def test_timestamps_are_readable_after_an_insert_and_an_update(server_database_url: str) -> None:
    settings = app_settings(server_database_url)
    prepare_database(settings)
    fields = NumberFields(new_value(), Decimal("1.00"), Decimal("2.00"), "U$")

    async def write_then_read() -> tuple[datetime, datetime, datetime]:
        database = open_database(settings)
        try:
            async with database.sessions.begin() as session:
                number: Number = await queries.add_number(session, fields)
                created = number.updated_at  # no lazy load: it came back with the INSERT
            await asyncio.sleep(CLOCK_STEP_SECONDS)
            async with database.sessions.begin() as session:
                again = await queries.get_number(session, number.id)
                assert again is not None
                await queries.update_number(session, again, NumberFields(currency="EUR"))
                # onupdate=now() changed it in the database; eager_defaults brought it back.
                return created, again.created_at, again.updated_at
        finally:
            await database.dispose()

    created, created_at, updated_at = asyncio.run(write_then_read())

    assert isinstance(created, datetime)
    assert isinstance(created_at, datetime)
    assert updated_at > created  # the value the UPDATE set, not the one loaded before it
