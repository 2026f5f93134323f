"""The benchmark's own arithmetic and text: medians, ratios, the table, the seed's layouts."""

from __future__ import annotations

from integration_tests.load.__main__ import Variant, _smoke_verdict
from integration_tests.load.dataset import _FORMATS, _layout_sql, _with_database
from integration_tests.load.report import Measurement, Report, summarize
from integration_tests.load.scenarios import SCENARIOS, _cursor_of
from integration_tests.load.server import ServeSpec
from integration_tests.load.wrk import WrkResult, lua_string, script


def _result(requests: int, p99_ms: float = 10.0, status_errors: int = 0) -> WrkResult:
    return WrkResult(requests, 10.0, 0, status_errors, 1.0, 5.0, p99_ms, 50.0)


def _measurement(variant: str, run: int, requests: int, **kwargs: float | int) -> Measurement:
    return Measurement(
        variant, "get_one", run, _result(requests, **kwargs), 70.0 + run, cpu_seconds=2.0
    )


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
