"""DB_STATEMENT_CACHE_SIZE=0, for PgBouncer's transaction pooling: the API works uncached.

On PostgreSQL every statement then runs as a uniquely named prepared statement that neither
asyncpg nor SQLAlchemy keeps (what a pooler that hands each transaction to another server
connection needs); on SQLite the setting does not apply, and the same requests must work.
"""

from __future__ import annotations

from integration_tests.api_client import number_body
from integration_tests.conftest import AppFactory
from integration_tests.server import ADMIN, log_in


def test_every_operation_works_without_a_statement_cache(in_process: AppFactory) -> None:
    with in_process(env={"DB_STATEMENT_CACHE_SIZE": "0"}) as app, app.client() as client:
        client.headers["Authorization"] = f"Bearer {log_in(client, *ADMIN)}"
        for _ in range(3):  # the same statements again, on the same pooled connections
            created = client.post("/numbers", json=number_body())
            assert created.status_code == 201, created.text
            path = f"/numbers/{created.json()['id']}"
            assert client.get(path).status_code == 200
            patched = client.patch(path, json={"monthyPrice": "0.05"})
            assert patched.status_code == 200
            assert patched.json()["monthyPrice"] == "0.05"
            assert client.get("/numbers", params={"_limit": 5}).status_code == 200
            assert client.delete(path).status_code == 200
