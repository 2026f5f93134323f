"""Medians over alternating runs, ratios between variants, the markdown table and the JSON."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from integration_tests.load.wrk import WrkResult


@dataclass(frozen=True, slots=True)
class Measurement:
    """One scenario in one run of one variant."""

    variant: str
    scenario: str
    run: int
    result: WrkResult
    peak_rss_mib: float
    #: CPU time the API's workers used during the run (not PostgreSQL's), in seconds.
    cpu_seconds: float = 0.0
    #: The largest growth of a worker's RSS from the run's first sample to its last, in %.
    rss_growth_percent: float = 0.0
    #: The machine's 1-minute load average when the run ended: a noisy neighbour shows here.
    load_average: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """Worker CPU milliseconds per completed request."""
        return self.cpu_seconds * 1000 / self.result.requests if self.result.requests else 0.0

    def as_json(self) -> dict[str, Any]:
        """The raw figures, as stored in the JSON report."""
        return {
            "variant": self.variant,
            "scenario": self.scenario,
            "run": self.run,
            "requests_per_second": round(self.result.requests_per_second, 1),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "load_average": self.load_average,
            "rss_growth_percent": round(self.rss_growth_percent, 1),
            "cpu_ms_per_request": round(self.cpu_ms_per_request, 3),
            **asdict(self.result),
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """A variant's scenario over all its runs: medians, total errors, the highest RSS."""

    runs: int
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    peak_rss_mib: float
    cpu_ms_per_request: float


def summarize(measurements: list[Measurement]) -> Summary:
    """Medians of the per-run figures; errors are summed and RSS is the peak of all runs."""
    results = [m.result for m in measurements]
    return Summary(
        runs=len(results),
        requests=sum(r.requests for r in results),
        requests_per_second=statistics.median(r.requests_per_second for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        errors=sum(r.errors for r in results),
        peak_rss_mib=max(m.peak_rss_mib for m in measurements),
        cpu_ms_per_request=statistics.median(m.cpu_ms_per_request for m in measurements),
    )


@dataclass
class Report:
    """Every measurement of a benchmark invocation, grouped for the table."""

    variants: list[str]
    labels: dict[str, str]
    measurements: list[Measurement] = field(default_factory=list)

    def scenarios(self) -> list[str]:
        """Scenario names in the order they ran, each once."""
        return list(dict.fromkeys(m.scenario for m in self.measurements))

    def summary(self, variant: str, scenario: str) -> Summary | None:
        """The summary of one cell, or None if it never ran."""
        chosen = [m for m in self.measurements if m.variant == variant and m.scenario == scenario]
        return summarize(chosen) if chosen else None

    def ratio(self, scenario: str) -> float | None:
        """Median req/s of the first variant over the second's (None without two variants)."""
        if len(self.variants) < 2:
            return None
        first = self.summary(self.variants[0], scenario)
        second = self.summary(self.variants[1], scenario)
        if first is None or second is None or not second.requests_per_second:
            return None
        return first.requests_per_second / second.requests_per_second

    def markdown(self) -> str:
        """The table: one row per scenario; with two variants, "a / b" cells and the ratio."""
        names = " / ".join(self.variants)
        header = ["scenario", *(f"{v} req/s" for v in self.variants)]
        if len(self.variants) == 2:
            header.append(f"ratio {self.variants[0]}/{self.variants[1]}")
        header += [
            f"p50 ms ({names})",
            f"p99 ms ({names})",
            f"errors ({names})",
            f"peak RSS/worker MiB ({names})",
            f"worker CPU ms/req ({names})",
        ]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for scenario in self.scenarios():
            summaries = [self.summary(v, scenario) for v in self.variants]

            def cells(render: Callable[[Summary], str], cells_of: list[Summary | None]) -> str:
                return " / ".join("-" if s is None else render(s) for s in cells_of)

            row = [self.labels.get(scenario, scenario)]
            row += [cells(lambda s: f"{s.requests_per_second:,.0f}", [s]) for s in summaries]
            if len(self.variants) == 2:
                ratio = self.ratio(scenario)
                row.append(f"**{ratio:.2f}×**" if ratio is not None else "-")
            row += [
                cells(lambda s: f"{s.p50_ms:.1f}", summaries),
                cells(lambda s: f"{s.p99_ms:.1f}", summaries),
                cells(lambda s: str(s.errors), summaries),
                cells(lambda s: f"{s.peak_rss_mib:.0f}", summaries),
                cells(lambda s: f"{s.cpu_ms_per_request:.2f}", summaries),
            ]
            lines.append("| " + " | ".join(row) + " |")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        """Summaries, ratios and every raw measurement."""
        summaries: dict[str, dict[str, Any]] = {}
        for variant in self.variants:
            summaries[variant] = {}
            for scenario in self.scenarios():
                summary = self.summary(variant, scenario)
                if summary is not None:
                    summaries[variant][scenario] = asdict(summary)
        return {
            "variants": self.variants,
            "summaries": summaries,
            "ratios": {
                scenario: self.ratio(scenario)
                for scenario in self.scenarios()
                if self.ratio(scenario) is not None
            },
            "measurements": [m.as_json() for m in self.measurements],
        }
