"""A bounded mixed load through nginx while compose/verify.sh restarts the API replicas.

``rolling-load.py run`` is run by verify.sh in the integration-tests container (inside the
compose network; the standard library only) against $API_URL, nginx's unlimited in-network
port. It sends --rate requests a second until the file /load/stop appears or --max-seconds have
passed: reads of one number and of a page, HEADs, creates with values unique to this run, and
patches, replacements and deletes of the numbers this run created (each client thread only
changes its own, so no two requests race for one row). Every request goes on a new connection
with its own X-Request-ID (``load-<n>``), which nginx's access log carries next to the replica
that answered it. Every outcome goes to /load/results.json.

``rolling-load.py judge DIR CONTAINER...`` is run by verify.sh on the host afterwards, with DIR
holding results.json, nginx's access log, the numbers table's rows and the replicas' addresses:
it prints the summary and fails unless no GET, HEAD, PUT or DELETE failed, every POST that got
201 is in the table, no POST that failed left a row (but see ``judge``), every replica served,
and no response header named a replica.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

OUT = Path("/load")
EXPECTED = {"GET": 200, "HEAD": 200, "POST": 201, "PATCH": 200, "PUT": 200, "DELETE": 200}
#: An IPv4 address or a 12-hex-digit word (a container's host name): no header may carry one.
REPLICA_LIKE = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b[0-9a-f]{12}\b")


class Run:
    """The shared state of one load run: schedule, known numbers, outcomes."""

    def __init__(self, url: str, token: str, rate: float, max_seconds: float) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "nginx", parts.port or 80
        self.auth = f"Bearer {token}"
        self.rate = rate
        self.max_seconds = max_seconds
        self.prefix = f"+49 {secrets.randbelow(9000) + 1000}"  # unique to this run
        self.lock = threading.Lock()
        self.next_slot = 0
        self.started = time.monotonic()
        self.started_at = time.time()  # the same moment on the wall clock, for the judge
        self.records: list[dict[str, Any]] = []
        self.header_names: set[str] = set()
        self.leaks: list[tuple[str, str]] = []
        self.seed_ids: list[int] = []

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One request on a new connection; its outcome, recorded."""
        with self.lock:
            n = len(self.records) + 1
            record: dict[str, Any] = {"n": n, "method": method, "path": path}
            self.records.append(record)
        headers = {
            "Authorization": self.auth,
            "X-Request-ID": f"load-{n}",
            "Connection": "close",
        }
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        record["started"] = time.monotonic() - self.started
        try:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            text = response.read()
            connection.close()
            record["status"] = response.status
            self._inspect(response.getheaders())
            if response.status == 201:
                record["id"] = json.loads(text)["id"]
        except (OSError, http.client.HTTPException) as error:
            record["status"] = None
            record["error"] = f"{type(error).__name__}: {error}"
        record["ended"] = time.monotonic() - self.started
        return record

    def _inspect(self, headers: list[tuple[str, str]]) -> None:
        with self.lock:
            for name, value in headers:
                self.header_names.add(name.lower())
                if REPLICA_LIKE.search(value) and len(self.leaks) < 20:
                    self.leaks.append((name, value))

    def wait_for_slot(self) -> bool:
        """Sleep until this thread's next request is due; False when the run is over."""
        with self.lock:
            slot = self.next_slot
            self.next_slot += 1
        due = self.started + slot / self.rate
        while True:
            now = time.monotonic()
            if (OUT / "stop").exists() or now - self.started > self.max_seconds:
                return False
            if now >= due:
                return True
            time.sleep(min(0.05, due - now))


def client(run: Run, number: int) -> None:
    """One client thread: the mix of requests, changing only the numbers it created."""
    rng = random.Random(number)  # noqa: S311 - a load mix, not a secret
    own: list[tuple[int, str]] = []  # (id, value) of the numbers this thread created
    made = 0
    while run.wait_for_slot():
        roll = rng.random()
        if roll < 0.40 or (roll >= 0.78 and not own):
            known = run.seed_ids + [number_id for number_id, _ in own]
            run.request("GET", f"/numbers/{rng.choice(known)}")
        elif roll < 0.52:
            run.request("GET", f"/numbers?_page={rng.randint(1, 8)}&_limit=20")
        elif roll < 0.58:
            run.request("HEAD", f"/numbers/{rng.choice(run.seed_ids)}")
        elif roll < 0.78:
            made += 1
            value = f"{run.prefix} {number:02d}{made:05d}"
            record = run.request("POST", "/numbers", _number(value, "0.03"))
            record["value"] = value
            if record["status"] == 201:
                own.append((record["id"], value))
        elif roll < 0.90:
            number_id, _ = rng.choice(own)
            price = f"0.{rng.randint(10, 99)}"
            run.request("PATCH", f"/numbers/{number_id}", {"monthyPrice": price})
        elif roll < 0.96:
            number_id, value = rng.choice(own)
            run.request("PUT", f"/numbers/{number_id}", _number(value, "0.07"))
        else:
            number_id, _ = own.pop(rng.randrange(len(own)))
            run.request("DELETE", f"/numbers/{number_id}")


def _number(value: str, monthly_price: str) -> dict[str, Any]:
    return {"value": value, "monthyPrice": monthly_price, "setupPrice": "3.40", "currency": "U$"}


def login(url: str, username: str, password: str) -> str:
    """A supervisor's token."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "nginx", parts.port or 80)
    body = json.dumps({"username": username, "password": password})
    connection.request("POST", "/auth/token", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = json.loads(response.read())
    if response.status != 200:
        raise SystemExit(f"rolling-load: cannot log in: {answer}")
    return str(answer["access_token"])


def run_load(args: argparse.Namespace) -> None:
    """Run the load, then write /load/results.json."""
    url = os.environ["API_URL"]
    token = login(url, os.environ["API_USERNAME"], os.environ["API_PASSWORD"])
    run = Run(url, token, args.rate, args.max_seconds)
    run.seed_ids = [number["id"] for number in json.loads(_get(url, token, "/numbers?_limit=100"))]
    if not run.seed_ids:
        raise SystemExit("rolling-load: no numbers to read; seed some first")
    (OUT / "started").touch()
    threads = [threading.Thread(target=client, args=(run, i)) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - run.started
    results = {
        "seconds": round(elapsed, 1),
        "started_at": run.started_at,
        "rate_asked": args.rate,
        "prefix": run.prefix,
        "expected": EXPECTED,
        "header_names": sorted(run.header_names),
        "leaks": run.leaks,
        "records": run.records,
    }
    (OUT / "results.json").write_text(json.dumps(results))
    print(f"rolling-load: {len(run.records)} requests in {elapsed:.0f} s", flush=True)


_ACCESS = re.compile(
    r'\[(?P<time>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+)[^"]*" (?P<status>\d{3}) .*'
    r"request_id=(?P<request_id>load-\d+) .*upstream=(?P<upstream>.*?) "
    r"upstream_status=(?P<upstream_status>.*?) upstream_time="
)


def judge(directory: Path, containers: list[str]) -> int:
    """Print the run's summary; 1 when any of the promises above was broken."""
    results = json.loads((directory / "results.json").read_text())
    records: list[dict[str, Any]] = results["records"]
    expected: dict[str, int] = results["expected"]
    owner = {}  # address -> container, over every address each replica had
    for line in (directory / "addresses").read_text().split("\n"):
        if line.strip():
            container, address = line.split()
            owner[address] = container[:12]
    killed_container, killed_address, killed_at = (directory / "killed").read_text().split()
    access = {}
    for line in (directory / "access.log").read_text(errors="replace").splitlines():
        if (match := _ACCESS.search(line)) is not None:
            access[match["request_id"]] = match
    rows = dict(line.split() for line in (directory / "rows").read_text().splitlines() if line)
    present_ids = {int(number_id) for number_id in rows}
    present_digits = set(rows.values())

    problems: list[str] = []
    by_method: Counter[tuple[str, str]] = Counter()
    served_by: Counter[str] = Counter()
    passed_on = 0
    killed_epoch = float(killed_at)

    def tried_on_the_killed_replica_first(logged: re.Match[str] | None) -> bool:
        return (
            logged is not None
            and "," in logged["upstream"]  # passed on: an earlier attempt failed
            and killed_address in logged["upstream"].rsplit(",", 1)[0]
            and _near(logged["time"], killed_epoch)
        )

    deleted = set()
    # A DELETE in flight on the replica at the instant of its SIGKILL may have committed there;
    # nginx passes it on (DELETE is idempotent) and the next replica finds the number gone: 404.
    # HTTP allows that answer to a repeated DELETE; the number is off sale either way.
    deleted_before_the_retry = set()
    for r in records:
        if r["method"] != "DELETE":
            continue
        number_id = int(r["path"].rsplit("/", 1)[1])
        if r["status"] == expected["DELETE"]:
            deleted.add(number_id)
        elif (
            r["status"] == 404
            and number_id not in present_ids
            and tried_on_the_killed_replica_first(access.get(f"load-{r['n']}"))
        ):
            deleted.add(number_id)
            deleted_before_the_retry.add(r["n"])
    lost_acknowledgements = 0
    for record in records:
        method, status = record["method"], record["status"]
        by_method[method, str(status or record.get("error", "error").split(":")[0])] += 1
        logged = access.get(f"load-{record['n']}")
        if logged is not None:
            attempts = [a.strip() for a in logged["upstream"].replace(" : ", ", ").split(",")]
            passed_on += len(attempts) > 1
            address = attempts[-1].rsplit(":", 1)[0]
            served_by[owner.get(address, address)] += 1
        ok = status == expected[method] or record["n"] in deleted_before_the_retry
        if method in ("GET", "HEAD", "PUT", "DELETE") and not ok:
            problems.append(f"{method} {record['path']} failed: {status or record.get('error')}")
        if method != "POST":
            continue
        digits = re.sub(r"[^0-9]", "", record["value"])
        if ok and record["id"] not in present_ids and record["id"] not in deleted:
            problems.append(f"POST {record['value']} got 201 (id {record['id']}) but is not stored")
        if not ok and digits in present_digits:
            # A POST in flight on the replica at the instant of its SIGKILL may have committed
            # before its response was lost: nginx answers 502 and the row exists. No server can
            # close that window; a client finds out by sending the same POST again (409).
            if (
                logged is not None
                and killed_address in logged["upstream"]
                and _near(logged["time"], killed_epoch)
            ):
                lost_acknowledgements += 1
            else:
                problems.append(f"POST {record['value']} failed ({status}) but left a row")
    for container in containers:
        if not served_by[container[:12]]:
            problems.append(f"replica {container[:12]} served no request")
    if results["leaks"]:
        problems.append(f"a response header names a replica: {results['leaks']}")

    seconds = results["seconds"]
    print(
        f"requests: {len(records)} in {seconds} s ({len(records) / seconds:.0f}/s, "
        f"asked {results['rate_asked']:.0f}/s)"
    )
    for method in ("GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"):
        counts = ", ".join(
            f"{status}: {n}" for (m, status), n in sorted(by_method.items()) if m == method
        )
        print(f"  {method:<6} {counts}")
    print(f"passed on to another replica by nginx: {passed_on}")
    print(f"served per replica: {', '.join(f'{c}: {n}' for c, n in sorted(served_by.items()))}")
    print(f"POSTs committed on the SIGKILLed replica whose 201 was lost: {lost_acknowledgements}")
    print(
        "DELETEs committed on the SIGKILLed replica, then 404 where nginx passed them on: "
        f"{len(deleted_before_the_retry)}"
    )
    print(f"response header names: {', '.join(results['header_names'])}")
    failed = [r for r in records if r["status"] != expected[r["method"]]]
    print(f"requests answered otherwise than expected: {len(failed)}")
    for record in failed[:30]:
        logged = access.get(f"load-{record['n']}")
        where = (
            f"upstream {logged['upstream']} ({logged['upstream_status']})"
            if logged
            else "not logged"
        )
        print(
            f"  at {record['started']:6.1f} s {record['method']} {record['path']}: "
            f"{record['status'] or record.get('error')}, {where}"
        )
    print(
        f"the SIGKILL: {killed_container[:12]} ({killed_address}) "
        f"at {float(killed_at) - results['started_at']:.1f} s"
    )
    for problem in problems[:40]:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _near(logged: str, epoch: float, seconds: float = 10.0) -> bool:
    return abs(datetime.strptime(logged, "%d/%b/%Y:%H:%M:%S %z").timestamp() - epoch) <= seconds


def main() -> None:
    """``run`` the load (in the compose network) or ``judge`` its results (on the host)."""
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="drive the load")
    run.add_argument("--rate", type=float, default=200.0, help="requests a second")
    run.add_argument("--clients", type=int, default=24, help="concurrent connections")
    run.add_argument("--max-seconds", type=float, default=240.0, help="stop by then anyway")
    verdict = commands.add_parser("judge", help="judge a finished run")
    verdict.add_argument("directory", type=Path)
    verdict.add_argument("containers", nargs="+")
    args = parser.parse_args()
    if args.command == "run":
        run_load(args)
    else:
        sys.exit(judge(args.directory, args.containers))


def _get(url: str, token: str, path: str) -> bytes:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "nginx", parts.port or 80)
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    return connection.getresponse().read()


if __name__ == "__main__":
    main()
