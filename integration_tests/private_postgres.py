"""A PostgreSQL cluster of the tests' own, which they may stop, crash and start at will.

Made with ``initdb`` in a temporary directory and served by ``pg_ctl`` on a free port, so that
no test ever stops or restarts the shared server other tests (and CI) use. PostgreSQL refuses
to run as root; as root the cluster is run by the ``postgres`` operating-system user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from integration_tests.server import free_port

#: Where Debian and Ubuntu install the server programs (package postgresql-NN).
_BIN_DIRS = "/usr/lib/postgresql"
_OS_USER = "postgres"
_START_TIMEOUT_SECONDS = 30


class PrivatePostgres:
    """One cluster: ``start()``, ``stop(mode)``, ``create_database(name)``, ``url(name)``."""

    def __init__(self) -> None:
        self.bin_dir = _server_bin_dir()
        self.as_other_user = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="itests-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "server.log"
        self.port = free_port()
        if self.as_other_user:
            shutil.chown(self.root, _OS_USER)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
                "fsync = off\n"  # a throwaway cluster: durability buys nothing here
                "max_connections = 60\n"
            )

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this cluster."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data),
            "-l",
            str(self.log_path),
            "-w",
            "-t",
            str(_START_TIMEOUT_SECONDS),
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (clients are disconnected), ``immediate`` (a crash)."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")

    def is_running(self) -> bool:
        """Whether the server is up (``pg_ctl status``)."""
        return self._run("pg_ctl", "status", "-D", str(self.data), check=False).returncode == 0

    def create_database(self, name: str) -> str:
        """Create ``name`` and return its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def set_statement_log(self, enabled: bool) -> None:
        """Log every statement the server runs (``log_statement = all``) or none."""
        value = "all" if enabled else "none"
        self.psql(f"ALTER SYSTEM SET log_statement = '{value}'", "SELECT pg_reload_conf()")

    def psql(self, *statements: str, database: str = "postgres") -> str:
        """Run ``statements`` with psql; return what it printed."""
        args = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]
        args += ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database]
        for statement in statements:
            args += ["-c", statement]
        return self._run(*args).stdout

    def log(self) -> str:
        """What the server has logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def destroy(self) -> None:
        """Stop the server if it runs and delete the cluster."""
        if self.is_running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(
        self, program: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command: Sequence[str] = [str(self.bin_dir / program), *args]
        if self.as_other_user:
            command = ["runuser", "-u", _OS_USER, "--", *command]
        result = subprocess.run(
            command,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({result.returncode}): {result.stderr}{result.stdout}\n"
                f"server log:\n{self.log()}"
            )
        return result


def _server_bin_dir() -> Path:
    """The newest installed PostgreSQL's server programs; fails naming what to install."""
    candidates = sorted(
        Path(_BIN_DIRS).glob("*/bin/pg_ctl"), key=lambda path: int(path.parent.parent.name)
    )
    if not candidates:
        raise RuntimeError(
            f"no PostgreSQL server programs under {_BIN_DIRS}/*/bin: these tests start a "
            "PostgreSQL cluster of their own (apt-get install postgresql-15)"
        )
    return candidates[-1].parent
