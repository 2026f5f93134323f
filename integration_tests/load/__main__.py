"""``python -m integration_tests.load``: the load benchmark (see docs/performance.md).

Examples::

    python -m integration_tests.load --rows 800 --duration 10 --runs 3 --json out.json
    python -m integration_tests.load --compare fastapi --runs 3      # vs FastAPI on uvicorn
    python -m integration_tests.load --compare syncflask --runs 3    # vs sync Flask on gunicorn
    python -m integration_tests.load --compare threadpool --runs 3   # greenlet vs thread pool
    python -m integration_tests.load --compare uvloop --runs 3       # uvloop x2 vs asyncio x1
    python -m integration_tests.load --compare rows --big-rows 1000000 --runs 3
    python -m integration_tests.load --scenarios get_one --runs 1 --profile build/profiles
    python -m integration_tests.load --smoke                         # CI: ~30 s, asserts
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from integration_tests.load import flamegraph, wrk
from integration_tests.load.dataset import Databases, Template, benchmark_databases
from integration_tests.load.report import Measurement, Report, summarize
from integration_tests.load.sampling import RssSampler
from integration_tests.load.scenarios import (
    SCENARIOS,
    Scenario,
    Target,
    differences,
    find_deep_cursor,
    plain_answers,
)
from integration_tests.load.serving import (
    FASTAPI,
    PRODUCT,
    SYNCFLASK,
    THREADPOOL,
    ServeSpec,
)
from integration_tests.server import SECRET_KEY, RunningServer, run_server
from service.auth.tokens import issue_token
from service.models import Role

#: The status in an access line: the product's ("service.access: GET /numbers/1 200 1.2ms"),
#: uvicorn's and gunicorn's ('"GET /numbers/1 HTTP/1.1" 200').
_ACCESS_LINE = re.compile(r'service\.access: \S+ \S+ (\d{3}) [\d.]+ms|" (\d{3}) ')
_REPO = Path(__file__).resolve().parents[2]
#: A run's servers start on a fresh copy of the database: migrations, imports, pools.
_STARTUP_TIMEOUT_SECONDS = 60.0
_TOKEN_TTL_SECONDS = 24 * 3600
#: What the comparisons with the peers measure unless --scenarios says otherwise.
_PEER_SCENARIOS = ("get_one", "list_50")
#: Product workers and loop per comparison, unless --workers or --worker-class say otherwise:
#: FastAPI is compared with one worker on uvloop (uvicorn's own pick when uvloop is installed),
#: the sync Flask app with the product's production setting.
_PRODUCT_DEFAULTS = {FASTAPI: (1, "uvloop"), SYNCFLASK: (2, "uvloop")}


@dataclass(frozen=True, slots=True)
class Variant:
    """One way of serving, on one data set: a column group of the table."""

    name: str
    spec: ServeSpec
    rows: int


def _variants(args: argparse.Namespace) -> list[Variant]:
    workers, worker_class = _PRODUCT_DEFAULTS.get(args.compare, (1, "asyncio"))
    product = ServeSpec(PRODUCT, args.workers or workers, args.worker_class or worker_class)
    if args.compare in (FASTAPI, SYNCFLASK):
        # The same workers and loop on both sides: only the code that serves differs.
        peer = replace(product, entry=args.compare)
        return [Variant("product", product, args.rows), Variant(args.compare, peer, args.rows)]
    if args.compare == "threadpool":
        return [
            Variant("greenlet", replace(product, workers=1), args.rows),
            Variant("threadpool", ServeSpec(THREADPOOL, 1, product.worker_class), args.rows),
        ]
    if args.compare == "uvloop":
        return [
            Variant("uvloop-w2", ServeSpec(PRODUCT, 2, "uvloop"), args.rows),
            Variant("asyncio-w1", ServeSpec(PRODUCT, 1, "asyncio"), args.rows),
        ]
    if args.compare == "rows":
        return [
            Variant(f"rows-{args.big_rows}", product, args.big_rows),
            Variant(f"rows-{args.rows}", product, args.rows),
        ]
    return [Variant(product_name(product), product, args.rows)]


def product_name(spec: ServeSpec) -> str:
    """The product's column name: its loop and workers (``asyncio-w1``)."""
    return f"{spec.worker_class}-w{spec.workers}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m integration_tests.load",
        description="Load-test the numbers API with wrk on a fresh, bulk-seeded PostgreSQL "
        "database (BENCH_DATABASE_URL, else DATABASE_URL, else postgres@127.0.0.1:5432).",
    )
    parser.add_argument("--rows", type=int, default=800, help="numbers seeded (default 800)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario run")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured seconds before each")
    parser.add_argument("--runs", type=int, default=3, help="alternating runs per variant")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument(
        "--workers",
        type=int,
        help="worker processes (WEB_CONCURRENCY) of the product and of a peer it is compared "
        "with (default 1; 2 with --compare syncflask)",
    )
    parser.add_argument(
        "--worker-class",
        choices=("asyncio", "uvloop"),
        help="the event loop of the product and of a peer (default asyncio; uvloop with "
        "--compare fastapi or syncflask)",
    )
    parser.add_argument(
        "--compare",
        choices=(FASTAPI, SYNCFLASK, "threadpool", "uvloop", "rows"),
        help="alternate two variants: the product vs FastAPI on uvicorn, vs sync Flask on "
        "gunicorn, greenlet vs threadpool, uvloop -w 2 vs asyncio -w 1, or --big-rows vs --rows",
    )
    parser.add_argument("--big-rows", type=int, default=1_000_000, help="for --compare rows")
    parser.add_argument(
        "--scenarios",
        help="comma list of scenarios to run (default all; with a peer "
        + ", ".join(_PEER_SCENARIOS)
        + "): "
        + ", ".join(s.name for s in SCENARIOS),
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record a py-spy flame graph (SVG) of every measured scenario into DIR; the "
        "figures of a profiled run are not a measurement",
    )
    parser.add_argument(
        "--log-level", default="INFO", help="the API's LOG_LEVEL (default INFO, as shipped)"
    )
    parser.add_argument("--json", type=Path, help="write the full results here")
    parser.add_argument("--markdown", type=Path, help="write the table here too")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="CI smoke: 300 rows, 2 s per scenario, one run; fails unless every scenario "
        "made requests without a single error",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table: 1 if a check fails, 2 if it cannot run.

    The checks: variants answer alike, the profiler records, and with --smoke no errors.
    """
    args = _parser().parse_args(argv)
    if args.smoke:
        args.rows, args.duration, args.warmup, args.runs = 300, 2, 0, 1
    try:
        wrk.require_wrk()
        if args.profile:
            flamegraph.require_py_spy()
    except (wrk.WrkMissing, flamegraph.ProfilerFailed) as error:
        print(f"load benchmark: {error}", file=sys.stderr)
        return 2
    variants = _variants(args)
    try:
        scenarios = _scenarios(args.scenarios, variants)
    except ValueError as error:
        print(f"load benchmark: {error}", file=sys.stderr)
        return 2

    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so that every finally block runs
    report = Report([v.name for v in variants], {s.name: s.label for s in scenarios})
    started = datetime.now(UTC)
    context: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, benchmark_databases() as databases:
        workdir = Path(tmp)
        templates: dict[int, Template] = {}
        for rows in dict.fromkeys(v.rows for v in variants):
            templates[rows] = databases.create_template(rows)
            _say(f"seeded {rows:,} numbers in {templates[rows].seed_seconds:.1f} s")
        answers: dict[int, tuple[str, dict[str, Any]]] = {}
        for run in range(1, args.runs + 1):
            for variant in variants:  # A, B, A, B, ...: drift hits both alike
                try:
                    context[variant.name] = _run_variant(
                        args,
                        databases,
                        templates[variant.rows],
                        variant,
                        run,
                        scenarios,
                        workdir,
                        report,
                        answers,
                    )
                except (AnswersDiffer, flamegraph.ProfilerFailed) as error:
                    print(f"load benchmark: {error}", file=sys.stderr)
                    return 1
    table = report.markdown()
    header = _header(args, started, variants)
    print()
    print(header)
    print(table)
    document = {
        **_environment(args, started),
        "setups": {
            v.name: {
                "served": v.spec.describe(),
                "entry": v.spec.entry,
                "workers": v.spec.workers,
                "worker_class": v.spec.worker_class,
                "rows": v.rows,
                "api": context.get(v.name, {}),
            }
            for v in variants
        },
        "seed_seconds": {str(rows): round(t.seed_seconds, 1) for rows, t in templates.items()},
        **report.as_json(),
        "markdown": table,
    }
    if args.json:
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    if args.markdown:
        args.markdown.write_text(header + "\n" + table + "\n")
    return _smoke_verdict(report, variants, scenarios) if args.smoke else 0


class AnswersDiffer(RuntimeError):
    """Two variants answer the same plain reads differently: their figures do not compare."""


def _scenarios(names: str | None, variants: list[Variant]) -> list[Scenario]:
    """The scenarios to run: those named, else all (the peers' two by default with a peer)."""
    with_peer = any(v.spec.is_peer for v in variants)
    if names is None:
        if with_peer:
            return [s for s in SCENARIOS if s.name in _PEER_SCENARIOS]
        return list(SCENARIOS)
    wanted = {name.strip() for name in names.split(",")}
    unknown = wanted - {s.name for s in SCENARIOS}
    if unknown:
        raise ValueError(f"unknown scenarios {sorted(unknown)}")
    chosen = [s for s in SCENARIOS if s.name in wanted]
    unserved = [s.name for s in chosen if with_peer and not s.plain_read]
    if unserved:
        raise ValueError(
            f"the peer fixtures serve plain reads only, not {unserved}; "
            f"choose among {[s.name for s in SCENARIOS if s.plain_read]}"
        )
    return chosen


def _run_variant(
    args: argparse.Namespace,
    databases: Databases,
    template: Template,
    variant: Variant,
    run: int,
    scenarios: list[Scenario],
    workdir: Path,
    report: Report,
    answers: dict[int, tuple[str, dict[str, Any]]],
) -> dict[str, Any]:
    name = databases.copy(template, f"r{run}_{variant.name.replace('-', '_')}")
    env = {"LOG_LEVEL": args.log_level, **variant.spec.environment()}
    try:
        with run_server(
            databases.database_url(name),
            env,
            command=variant.spec.command,
            startup_timeout=_STARTUP_TIMEOUT_SECONDS,
        ) as server:
            target, api, answered = _prepare(server, template)
            # Every variant on these rows must answer as the first one did, before any write.
            first, expected = answers.setdefault(template.rows, (variant.name, answered))
            wrong = differences(expected, answered)
            if wrong:
                raise AnswersDiffer(
                    f"{variant.name} does not answer like {first}: " + "; ".join(wrong)
                )
            for scenario in scenarios:
                if scenario.needs_cursor and target.deep_cursor_path is None:
                    continue
                measurement = _measure(args, server, target, scenario, variant, run, workdir)
                report.measurements.append(measurement)
                result = measurement.result
                _say(
                    f"run {run} {variant.name:<12} {scenario.name:<22} "
                    f"{result.requests_per_second:8.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
                    f"p99 {result.p99_ms:6.1f} ms  errors {result.errors:<4} "
                    f"RSS {measurement.peak_rss_mib:5.0f} MiB  "
                    f"CPU {measurement.cpu_ms_per_request:5.2f} ms/req  "
                    f"load {measurement.load_average:.1f}"
                )
            return api
    finally:
        databases.drop(name)


def _prepare(
    server: RunningServer, template: Template
) -> tuple[Target, dict[str, Any], dict[str, Any]]:
    """The scenarios' target, what the run learnt of the API, and its plain answers."""
    token, refused = _tokens(template.admin_id)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        answered = plain_answers(client, template.rows, refused)
        target = Target(server.url, template.rows, token, None, 0)
        cursor_path, same_rows = find_deep_cursor(client, target.deep_page)
    api = {
        "cursor": cursor_path is not None,
        "deep_page": target.deep_page,
        "cursor_page_equals_deep_page": same_rows,
    }
    return replace(target, deep_cursor_path=cursor_path), api, answered


def _tokens(user_id: int) -> tuple[str, dict[str, str]]:
    """A supervisor's valid token, and tokens every variant must refuse (by what is wrong)."""

    # Signed as POST /auth/token signs them, with the servers' key: the peers have no login.
    # The seeded supervisor is at token_version 0: it never changed its password.
    def sign(key: str, ttl_seconds: int, now: float | None = None, version: int = 0) -> str:
        return issue_token(key, user_id, Role.SUPERVISOR, ttl_seconds, now=now, version=version)

    return sign(SECRET_KEY, _TOKEN_TTL_SECONDS), {
        "an expired token": sign(SECRET_KEY, 60, now=time.time() - 3600),
        "another key's signature": sign("not-the-servers-key", _TOKEN_TTL_SECONDS),
        "another token version": sign(SECRET_KEY, _TOKEN_TTL_SECONDS, version=1),
    }


_wrk_invocations = 0


def _measure(
    args: argparse.Namespace,
    server: RunningServer,
    target: Target,
    scenario: Scenario,
    variant: Variant,
    run: int,
    workdir: Path,
) -> Measurement:
    global _wrk_invocations

    def script() -> str:
        global _wrk_invocations
        _wrk_invocations += 1
        tagged = replace(target, run_tag=_wrk_invocations)
        return wrk.script(scenario.lua(tagged), target.headers(scenario.content_type))

    options = {"connections": args.connections, "threads": args.threads}
    if args.warmup:
        wrk.run(server.url, script(), workdir, duration=args.warmup, **options)
    log_offset = server.output_path.stat().st_size
    svg = None
    if args.profile:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        svg = args.profile.resolve() / f"{scenario.name}-{variant.name}-run{run}-{stamp}.svg"
    with ExitStack() as profiling:
        if svg is not None:  # the whole server, its workers included, for the measured run
            profiling.enter_context(flamegraph.flame_graph(server.process.pid, svg))
        with RssSampler(server) as sampler:
            result = wrk.run(server.url, script(), workdir, duration=args.duration, **options)
    if svg is not None:
        _say(f"flame graph of {scenario.name} on {variant.name}: {svg}")
    if result.errors:
        statuses = dict(_statuses(server.output_path, log_offset))
        _say(f"  statuses seen in the server's log: {statuses}")
    return Measurement(
        variant.name,
        scenario.name,
        run,
        result,
        peak_rss_mib=sampler.peak_mib(),
        cpu_seconds=sampler.cpu_used_seconds,
        rss_growth_percent=sampler.growth_percent(),
        load_average=os.getloadavg()[0],
    )


def _statuses(log_path: Path, offset: int) -> Counter[str]:
    with open(log_path, "rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    return Counter(match.group(1) or match.group(2) for match in _ACCESS_LINE.finditer(text))


def _smoke_verdict(report: Report, variants: list[Variant], scenarios: list[Scenario]) -> int:
    failures = []
    ran = set(report.scenarios())
    for scenario in scenarios:
        if scenario.name not in ran:
            if not scenario.needs_cursor:
                failures.append(f"{scenario.name}: did not run")
            continue
        for variant in variants:
            chosen = [
                m
                for m in report.measurements
                if m.variant == variant.name and m.scenario == scenario.name
            ]
            summary = summarize(chosen)
            if summary.requests == 0:
                failures.append(f"{scenario.name}: no requests completed")
            if summary.errors:
                failures.append(f"{scenario.name}: {summary.errors} errors")
    for failure in failures:
        print(f"SMOKE FAILED: {failure}", file=sys.stderr)
    if not failures:
        print("smoke: every scenario made requests, with no errors")
    return 1 if failures else 0


def _header(args: argparse.Namespace, started: datetime, variants: list[Variant]) -> str:
    served = "; ".join(f"{v.name}: {v.spec.describe()}, {v.rows:,} rows" for v in variants)
    return (
        f"Load benchmark, {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs; "
        f"wrk {args.connections} connections, {args.duration} s per scenario after a "
        f"{args.warmup} s warm-up; medians of {args.runs} alternating run(s). {served}.\n"
    )


def _environment(args: argparse.Namespace, started: datetime) -> dict[str, Any]:
    def output(*command: str) -> str:
        try:
            return subprocess.run(  # noqa: S603 - fixed command lines
                command, capture_output=True, text=True, check=False, cwd=_REPO
            ).stdout.strip()
        except OSError:
            return ""

    return {
        "date": started.isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "wrk": output("wrk", "--version").splitlines()[0:1],
            "postgresql": output("psql", "--version"),
        },
        "git": {
            "commit": output("git", "rev-parse", "HEAD"),
            "dirty": bool(output("git", "status", "--porcelain", "--", "service")),
        },
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _exit_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(143)


if __name__ == "__main__":
    sys.exit(main())
