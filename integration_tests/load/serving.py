"""How each benchmarked variant is served: the product, or a fixture it is measured against.

Every variant runs on the shared subprocess harness (``integration_tests.server.run_server``);
this module only says which command line serves it, with how many workers and which loop.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from integration_tests.server import HOST

#: The product: ``python -m service`` (Hypercorn, the greenlet bridge).
PRODUCT = "product"
#: The product's own Flask app in Hypercorn's WSGI thread pool (the design we rejected).
THREADPOOL = "threadpool"
#: A minimal FastAPI + SQLAlchemy async (asyncpg) app on uvicorn.
FASTAPI = "fastapi"
#: A minimal synchronous Flask + SQLAlchemy + psycopg2 app on gunicorn's sync workers.
SYNCFLASK = "syncflask"
#: The fixtures that are other code than the product's: they serve only plain reads.
PEERS = (FASTAPI, SYNCFLASK)

_APPS = {
    THREADPOOL: "integration_tests.load.threadpool_app:app",
    FASTAPI: "integration_tests.load.peers.fastapi_app:app",
    SYNCFLASK: "integration_tests.load.peers.syncflask_app:app",
}


@dataclass(frozen=True, slots=True)
class ServeSpec:
    """One way of serving: the entry point, its worker processes and their event loop.

    ``worker_class`` is the loop (asyncio or uvloop) for every entry but gunicorn's, whose sync
    workers have none (its value is then ignored).
    """

    entry: str = PRODUCT
    workers: int = 1
    worker_class: str = "asyncio"

    @property
    def is_peer(self) -> bool:
        """True for the fixtures that are not the product's code (plain reads only)."""
        return self.entry in PEERS

    def command(self, port: int) -> list[str]:
        """The command line that serves on ``port``."""
        python = [sys.executable, "-m"]
        if self.entry == PRODUCT:
            return [*python, "service"]  # reads PORT, WEB_CONCURRENCY, WORKER_CLASS
        bind = f"{HOST}:{port}"
        workers = str(self.workers)
        if self.entry == THREADPOOL:
            # Hypercorn sees a WSGI app and runs it in its thread pool.
            return [
                *python,
                *("hypercorn", "--bind", bind, "--workers", workers),
                *("--worker-class", self.worker_class, _APPS[THREADPOOL]),
            ]
        if self.entry == FASTAPI:
            # The loop and parser named, not "auto": a missing uvloop or httptools must fail,
            # not silently measure something slower.
            return [
                *python,
                *("uvicorn", "--host", HOST, "--port", str(port), "--workers", workers),
                *("--loop", self.worker_class, "--http", "httptools", _APPS[FASTAPI]),
            ]
        if self.entry == SYNCFLASK:
            # The access log on stdout, as the product and uvicorn log every request.
            return [
                *python,
                *("gunicorn", "--bind", bind, "--workers", workers, "--worker-class", "sync"),
                *("--access-logfile", "-", _APPS[SYNCFLASK]),
            ]
        raise ValueError(f"unknown entry {self.entry!r}")

    def environment(self) -> dict[str, str]:
        """The settings the entry reads from its environment besides the database and port."""
        if self.entry != PRODUCT:
            return {}
        return {"WEB_CONCURRENCY": str(self.workers), "WORKER_CLASS": self.worker_class}

    def describe(self) -> str:
        """What serves, for the table's header."""
        if self.entry == PRODUCT:
            server = f"Hypercorn {self.worker_class}"
        elif self.entry == THREADPOOL:
            server = f"Hypercorn {self.worker_class}, WSGI thread pool"
        elif self.entry == FASTAPI:
            server = f"FastAPI on uvicorn {self.worker_class} + httptools"
        else:
            server = "sync Flask on gunicorn sync workers"
        return f"{self.entry} ({server}, {self.workers} worker(s))"
