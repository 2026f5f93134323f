"""A real PostgreSQL restart under load: 503s while it is down, never a 500, back by itself.

The database is a private cluster (see ``private_postgres.py``) that the test stops with
``pg_ctl stop -m fast`` (clients are told "terminating connection due to administrator
command") or ``-m immediate`` (a crash: connections just drop, recovery runs at start), waits,
and starts again, while a few threads read one number, list, patch and probe readiness.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from integration_tests.api_client import PROBLEM_JSON, create_number
from integration_tests.private_postgres import PrivatePostgres
from integration_tests.server import ADMIN, RunningServer, run_server, signed_in_client, token_for
from service.database import create_engine
from service.settings import Settings

pytestmark = pytest.mark.private_postgres

UP_SECONDS = 1.5  # load before the stop, and again after recovery
DOWN_SECONDS = 2.5
#: A 503 must come from a request that overlapped the outage; one that started this long after
#: the server was back would be the API failing to recover.
GRACE_SECONDS = 1.0
RECOVERY_SECONDS = 10.0
PAUSE_SECONDS = 0.01  # between one thread's requests: bounded load


@dataclass(frozen=True)
class Outcome:
    """One request of the load: what it was, when it ran, and what came back."""

    kind: str
    started: float
    ended: float
    status: int  # 0: no HTTP response at all
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: str = ""

    def describe(self) -> str:
        return (
            f"{self.kind} {self.status} at {self.started:.2f}-{self.ended:.2f}: {self.body[:200]}"
        )


@dataclass
class Timeline:
    """When the cluster was stopped and started, on the monotonic clock."""

    stop_called: float = 0.0
    stopped: float = 0.0
    start_called: float = 0.0
    started: float = 0.0


class Load:
    """Threads that each send one kind of request until stopped, recording every outcome."""

    def __init__(
        self, url: str, token: str, kinds: dict[str, Callable[[httpx.Client], httpx.Response]]
    ) -> None:
        self.url = url
        self.token = token
        self.kinds = kinds
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(kind, send), daemon=True)
            for kind, send in kinds.items()
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, kind: str, send: Callable[[httpx.Client], httpx.Response]) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=15) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    response = send(client)
                except httpx.TransportError as error:
                    outcome = Outcome(kind, started, time.monotonic(), 0, body=repr(error))
                else:
                    outcome = Outcome(
                        kind,
                        started,
                        time.monotonic(),
                        response.status_code,
                        response.headers,
                        response.text,
                    )
                with self._lock:
                    self.outcomes.append(outcome)
                time.sleep(PAUSE_SECONDS)

    def snapshot(self) -> list[Outcome]:
        with self._lock:
            return list(self.outcomes)

    def wait_for(self, kind: str, status: int, after: float, within: float) -> float:
        """When a ``kind`` request started after ``after`` first answered ``status``."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for outcome in self.snapshot():
                if outcome.kind == kind and outcome.started > after and outcome.status == status:
                    return outcome.ended
            time.sleep(0.05)
        raise AssertionError(f"no {kind} request answered {status} within {within}s")


@pytest.fixture
def restart_database(private_postgres: PrivatePostgres) -> Iterator[str]:
    """A fresh database on the private cluster; the cluster is running again afterwards."""
    url = private_postgres.create_database(f"restart_{uuid.uuid4().hex[:12]}")
    try:
        yield url
    finally:
        if not private_postgres.is_running():
            private_postgres.start()


def _kinds(number_ids: list[int]) -> dict[str, Callable[[httpx.Client], httpx.Response]]:
    prices = iter(f"{cents // 100}.{cents % 100:02d}" for cents in range(1, 10**9))
    return {
        "read": lambda client: client.get(f"/numbers/{number_ids[0]}"),
        "list": lambda client: client.get("/numbers", params={"_limit": 20}),
        "write": lambda client: client.patch(
            f"/numbers/{number_ids[1]}", json={"monthyPrice": next(prices)}
        ),
        "ready": lambda client: client.get("/health/ready"),
    }


def _restart_under_load(
    cluster: PrivatePostgres, server: RunningServer, mode: str
) -> tuple[list[Outcome], Timeline]:
    with signed_in_client(server.url) as api:
        number_ids = [create_number(api)["id"] for _ in range(2)]
    timeline = Timeline()
    with Load(server.url, token_for(server.url, *ADMIN), _kinds(number_ids)) as load:
        time.sleep(UP_SECONDS)
        timeline.stop_called = time.monotonic()
        cluster.stop(mode)
        timeline.stopped = time.monotonic()
        time.sleep(DOWN_SECONDS)
        timeline.start_called = time.monotonic()
        cluster.start()
        timeline.started = time.monotonic()
        load.wait_for("ready", 200, timeline.started, RECOVERY_SECONDS)
        time.sleep(UP_SECONDS)
    return load.snapshot(), timeline


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgresql_restart_under_load_gives_503s_while_down_and_no_500(
    private_postgres: PrivatePostgres, restart_database: str, workers: int, mode: str
) -> None:
    with run_server(restart_database, env={"WEB_CONCURRENCY": str(workers)}) as server:
        outcomes, timeline = _restart_under_load(private_postgres, server, mode)
        assert server.process.poll() is None, "the API had to be restarted"
        output = server.output()

    unexpected = [o for o in outcomes if o.status not in (200, 503)]
    assert not unexpected, "\n".join(o.describe() for o in unexpected) + "\n" + output[-4000:]

    unavailable = [o for o in outcomes if o.status == 503]
    for outcome in unavailable:
        assert outcome.headers["content-type"] == PROBLEM_JSON, outcome.describe()
        assert "database-unavailable" in outcome.body, outcome.describe()
        assert int(outcome.headers["retry-after"]) > 0, outcome.describe()
        overlapped = (
            outcome.ended >= timeline.stop_called
            and outcome.started <= timeline.started + GRACE_SECONDS
        )
        assert overlapped, f"a 503 away from the outage: {outcome.describe()}"

    down = [o for o in outcomes if timeline.stopped < o.started and o.ended < timeline.start_called]
    for kind in ("read", "list", "write", "ready"):
        assert any(o.kind == kind for o in down), f"no {kind} request while the database was down"
    assert all(o.status == 503 for o in down), [o.describe() for o in down if o.status != 503]

    after = [o for o in outcomes if o.started > timeline.started + GRACE_SECONDS]
    for kind in ("read", "list", "write", "ready"):
        assert any(o.kind == kind for o in after), f"no {kind} request after recovery"
    assert all(o.status == 200 for o in after), [o.describe() for o in after if o.status != 200]
    print(_summary(outcomes, output, mode, workers))


def _summary(outcomes: list[Outcome], output: str, mode: str, workers: int) -> str:
    """What happened, for ``pytest -s``: statuses per kind and the database errors logged."""
    counts: dict[str, dict[int, int]] = {}
    for outcome in outcomes:
        per_kind = counts.setdefault(outcome.kind, {})
        per_kind[outcome.status] = per_kind.get(outcome.status, 0) + 1
    errors: dict[str, int] = {}
    for line in output.splitlines():
        if "database unavailable:" in line:
            cause = line.split("database unavailable:", 1)[1].strip()[:120]
            errors[cause] = errors.get(cause, 0) + 1
    lines = [f"\n-m {mode}, {workers} worker(s): {counts}"]
    lines += [f"  {count:4d} x {cause}" for cause, count in sorted(errors.items())]
    return "\n".join(lines)


def test_a_connection_stuck_in_another_operation_is_discarded_not_pooled_again(
    restart_database: str,
) -> None:
    # asyncpg answers "another operation is in progress" (an InterfaceError, no SQLSTATE) on a
    # connection whose protocol is busy; SQLAlchemy sees the connection open and would pool it.
    settings = Settings(database_url=restart_database, db_pool_size=1)

    async def scenario() -> tuple[bool, int, int]:
        engine = create_engine(settings)
        try:
            async with engine.connect() as connection:
                first = await connection.scalar(text("SELECT pg_backend_pid()"))
                driver = (await connection.get_raw_connection()).driver_connection
                assert driver is not None
                busy = asyncio.ensure_future(driver.fetch("SELECT pg_sleep(1)"))
                await asyncio.sleep(0.1)
                with pytest.raises(DBAPIError, match="another operation is in progress") as raised:
                    await connection.execute(text("SELECT 1"))
                with suppress(Exception):
                    await busy
            async with engine.connect() as connection:
                second = await connection.scalar(text("SELECT pg_backend_pid()"))
            return raised.value.connection_invalidated, first, second
        finally:
            await engine.dispose()

    invalidated, first, second = asyncio.run(scenario())
    assert invalidated
    assert second != first


def test_pooled_connections_the_server_closed_are_replaced_without_an_error(
    private_postgres: PrivatePostgres, restart_database: str
) -> None:
    # There is no pre-ping: a connection the server has closed must be noticed for free at
    # checkout, not met by the request.
    with run_server(restart_database) as server, signed_in_client(server.url) as api:
        number = create_number(api)
        assert api.get(f"/numbers/{number['id']}").status_code == 200
        terminated = private_postgres.psql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'telecom-numbers'",
            database=restart_database.rsplit("/", 1)[1],
        )
        assert int(terminated) >= 1
        time.sleep(0.5)  # the server's goodbye reaches the API's idle connections
        for path in (f"/numbers/{number['id']}", "/numbers", "/health/ready"):
            assert api.get(path).status_code == 200, path
