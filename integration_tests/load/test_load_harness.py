"""The benchmark's own logic: medians, ratios, the table, the seed, the variants, the servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from integration_tests.conftest import ServerFactory
from integration_tests.load.__main__ import (
    Variant,
    _parser,
    _scenarios,
    _smoke_verdict,
    _statuses,
    _tokens,
    _variants,
)
from integration_tests.load.dataset import _FORMATS, _layout_sql, _with_database
from integration_tests.load.report import Measurement, Report, summarize
from integration_tests.load.scenarios import SCENARIOS, _cursor_of, differences
from integration_tests.load.serving import ServeSpec
from integration_tests.load.wrk import WrkResult, lua_string, script
from integration_tests.server import SECRET_KEY
from service.auth.tokens import TokenExpired, TokenInvalid, read_token


def _result(requests: int, p99_ms: float = 10.0, status_errors: int = 0) -> WrkResult:
    return WrkResult(requests, 10.0, 0, status_errors, 1.0, 5.0, p99_ms, 50.0)


def _measurement(
    variant: str, run: int, requests: int, p99_ms: float = 10.0, status_errors: int = 0
) -> Measurement:
    result = _result(requests, p99_ms, status_errors)
    return Measurement(variant, "get_one", run, result, 70.0 + run, cpu_seconds=2.0)


def test_summary_takes_medians_sums_errors_and_keeps_the_highest_rss() -> None:
    runs = [
        _measurement("a", 1, 1000, p99_ms=30.0),
        _measurement("a", 2, 9000, p99_ms=10.0, status_errors=2),
        _measurement("a", 3, 2000, p99_ms=20.0, status_errors=1),
    ]
    summary = summarize(runs)
    assert summary.requests_per_second == 200.0
    assert summary.p99_ms == 20.0
    assert summary.errors == 3
    assert summary.peak_rss_mib == 73.0
    assert summary.cpu_ms_per_request == 2.0 * 1000 / 2000


def test_ratio_is_the_first_variants_median_over_the_seconds() -> None:
    report = Report(["greenlet", "threadpool"], {"get_one": "GET one"})
    for run in (1, 2, 3):
        report.measurements.append(_measurement("greenlet", run, 15000))
        report.measurements.append(_measurement("threadpool", run, 10000))
    assert report.ratio("get_one") == 1.5
    table = report.markdown()
    assert "| GET one | 1,500 | 1,000 | **1.50×** |" in table
    assert "| ratio greenlet/threadpool |" in table.splitlines()[0]
    assert "**1.50×**" in table


def test_a_single_variant_has_no_ratio_column() -> None:
    report = Report(["asyncio-w1"], {})
    report.measurements.append(_measurement("asyncio-w1", 1, 100))
    assert report.ratio("get_one") is None
    assert "ratio" not in report.markdown()


def test_every_seed_layout_splits_exactly_its_subscriber_digits() -> None:
    for _, _, length, layout in _FORMATS:
        groups = [int(part) for part in layout.replace("-", " ").split()]
        assert sum(groups) == length
        assert f"s{length}" in _layout_sql(layout, f"s{length}")


def test_seed_prefixes_of_one_length_never_overlap() -> None:
    by_length: dict[int, list[str]] = {}
    for _, digits, length, _ in _FORMATS:
        by_length.setdefault(len(digits) + length, []).append(digits)
    for prefixes in by_length.values():
        for a in prefixes:
            assert not any(b != a and b.startswith(a) for b in prefixes)
        assert not any(p.startswith("86") for p in prefixes)  # POST creates +86 numbers


def test_database_url_swaps_only_the_database_name() -> None:
    url = "postgresql+asyncpg://u:p@127.0.0.1:5432/postgres?ssl=disable"
    assert _with_database(url, "bench_1") == (
        "postgresql+asyncpg://u:p@127.0.0.1:5432/bench_1?ssl=disable"
    )


def test_scripts_carry_the_headers_as_lua_strings() -> None:
    lua = script("wrk.path = '/numbers'", {"Authorization": 'Bearer a"b'})
    assert 'wrk.headers["Authorization"] = "Bearer a\\"b"' in lua
    assert "BENCH_RESULT" in lua
    assert lua_string("U$") == '"U$"'


def test_cursor_is_read_from_a_link_url() -> None:
    assert _cursor_of("http://h/numbers?_limit=100&_cursor=abc") == "abc"
    assert _cursor_of("http://h/numbers?_limit=100&_cursor=") == ""
    assert _cursor_of("http://h/numbers?_page=2") == ""


def test_smoke_fails_on_any_error_or_a_scenario_without_requests() -> None:
    variants = [Variant("asyncio-w1", ServeSpec(), 300)]
    get_one = [s for s in SCENARIOS if s.name == "get_one"]
    clean = Report(["asyncio-w1"], {})
    clean.measurements.append(_measurement("asyncio-w1", 1, 100))
    assert _smoke_verdict(clean, variants, get_one) == 0

    failing = Report(["asyncio-w1"], {})
    failing.measurements.append(_measurement("asyncio-w1", 1, 100, status_errors=1))
    assert _smoke_verdict(failing, variants, get_one) == 1
    assert _smoke_verdict(Report(["asyncio-w1"], {}), variants, get_one) == 1


def _compare(*argv: str) -> list[Variant]:
    return _variants(_parser().parse_args(list(argv)))


def test_fastapi_is_compared_with_the_product_on_one_uvloop_worker_each() -> None:
    product, peer = _compare("--compare", "fastapi")
    assert (product.name, product.spec) == ("product", ServeSpec("product", 1, "uvloop"))
    assert (peer.name, peer.spec) == ("fastapi", ServeSpec("fastapi", 1, "uvloop"))


def test_sync_flask_is_compared_with_the_products_production_setting() -> None:
    product, peer = _compare("--compare", "syncflask")
    assert product.spec == ServeSpec("product", 2, "uvloop")
    assert peer.spec == ServeSpec("syncflask", 2, "uvloop")


def test_workers_and_loop_options_apply_to_both_sides_of_a_peer_comparison() -> None:
    product, peer = _compare("--compare", "fastapi", "--workers", "2", "--worker-class", "asyncio")
    assert product.spec == ServeSpec("product", 2, "asyncio")
    assert peer.spec == ServeSpec("fastapi", 2, "asyncio")


def test_without_a_comparison_the_product_runs_alone_on_one_asyncio_worker() -> None:
    assert _compare() == [Variant("asyncio-w1", ServeSpec("product", 1, "asyncio"), 800)]


def test_a_peer_comparison_measures_get_one_and_the_50_row_page_by_default() -> None:
    variants = _compare("--compare", "syncflask")
    assert [s.name for s in _scenarios(None, variants)] == ["get_one", "list_50"]
    assert [s.name for s in _scenarios(None, _compare())] == [s.name for s in SCENARIOS]


def test_a_peer_comparison_refuses_scenarios_the_peers_do_not_serve() -> None:
    with pytest.raises(ValueError, match="plain reads only"):
        _scenarios("get_one,patch", _compare("--compare", "fastapi"))
    assert [s.name for s in _scenarios("patch", _compare())] == ["patch"]


def test_unknown_scenarios_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenarios"):
        _scenarios("get_all", _compare())


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_each_entry_is_served_by_its_own_server_with_its_workers_and_loop() -> None:
    product = ServeSpec("product", 2, "uvloop")
    assert product.command(8000)[1:] == ["-m", "service"]
    assert product.environment() == {"WEB_CONCURRENCY": "2", "WORKER_CLASS": "uvloop"}
    uvicorn = ServeSpec("fastapi", 1, "uvloop").command(8000)
    assert uvicorn[1:3] == ["-m", "uvicorn"]
    assert uvicorn[-1] == "integration_tests.load.peers.fastapi_app:app"
    assert [_option(uvicorn, o) for o in ("--port", "--workers", "--loop")] == [
        "8000",
        "1",
        "uvloop",
    ]
    gunicorn = ServeSpec("syncflask", 2, "uvloop").command(8000)
    assert gunicorn[1:3] == ["-m", "gunicorn"]
    assert gunicorn[-1] == "integration_tests.load.peers.syncflask_app:app"
    assert [_option(gunicorn, o) for o in ("--bind", "--workers", "--worker-class")] == [
        "127.0.0.1:8000",
        "2",
        "sync",
    ]
    assert ServeSpec("syncflask").environment() == {}


def test_the_benchmark_token_is_valid_and_the_refused_ones_are_not() -> None:
    token, refused = _tokens(7)
    assert read_token(SECRET_KEY, token).user_id == 7
    with pytest.raises(TokenExpired):
        read_token(SECRET_KEY, refused["an expired token"])
    with pytest.raises(TokenInvalid):
        read_token(SECRET_KEY, refused["another key's signature"])
    assert read_token(SECRET_KEY, refused["another token version"]).version == 1


def test_answers_that_differ_are_named_by_path_and_aspect() -> None:
    page = {"status": 200, "type": "application/json", "total": "800", "body": [{"id": 1}]}
    one = {"status": 200, "type": "application/json", "total": None, "body": {"id": 1}}
    expected = {"/numbers?_limit=50": page, "/numbers/1": one}
    assert differences(expected, expected) == []
    wrong = {"/numbers?_limit=50": {**page, "total": "801"}, "/numbers/1": {**one, "status": 401}}
    assert differences(expected, wrong) == [
        "/numbers?_limit=50: total 801 instead of 800",
        "/numbers/1: status 401 instead of 200",
    ]


def test_statuses_are_read_from_the_access_lines_of_every_server(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text(
        "INFO service.access: GET /numbers/1 200 1.2ms\n"
        'INFO:     127.0.0.1:5000 - "GET /numbers/2 HTTP/1.1" 404 Not Found\n'
        '127.0.0.1 - - [01/Dec/2026:10:00:00 +0000] "GET /numbers HTTP/1.1" 200 90 "-" "-"\n'
    )
    assert _statuses(log, 0) == {"200": 2, "404": 1}


def test_worker_pids_are_the_servers_workers_not_its_supervisor(
    start_server: ServerFactory,
) -> None:
    with start_server(env={"WEB_CONCURRENCY": "2"}) as server:
        workers = server.worker_pids()
        assert len(workers) == 2
        assert server.process.pid not in workers
        for pid in workers:
            assert "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()
