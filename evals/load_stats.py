"""Figures of a load run: percentiles per endpoint, errors by status, lock errors from the server log,
and the goals of issue 18 with their verdicts."""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from evals.load_clients import READS, Recorder

READ_ENDPOINTS = {name for name, _ in READS}
# The last line of a traceback names the exception: "sqlalchemy.exc.OperationalError: (sqlite3...) database is locked".
_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout)): (.*)$")
_LOCKED = re.compile(r"database is locked|deadlock detected|could not obtain lock|lock timeout|could not serialize",
                     re.IGNORECASE)


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0-1) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))], 1)


def summarize(rec: Recorder, wall: float, args, database: str) -> dict[str, Any]:
    endpoints = {}
    for name, values in sorted(rec.latencies.items()):
        statuses = {str(status): n for (endpoint, status), n in rec.statuses.items() if endpoint == name}
        endpoints[name] = {"count": len(values), "rps": round(len(values) / wall, 1), "p50_ms": percentile(values, .5),
                           "p95_ms": percentile(values, .95), "p99_ms": percentile(values, .99),
                           "max_ms": round(max(values), 1), "statuses": statuses}
    errors = Counter()
    for (_, status), n in rec.statuses.items():
        if not (isinstance(status, int) and status < 400):
            errors[str(status)] += n
    reads = [v for name, values in rec.latencies.items() if name in READ_ENDPOINTS for v in values]
    total = sum(len(v) for v in rec.latencies.values())
    return {"clients": args.clients, "seconds": args.seconds, "think_ms": args.think_ms, "database": database,
            "submissions": args.submit + (", cancelled" if args.cancel else ""), "reads_only": args.reads_only,
            "errors_5xx": sum(n for status, n in errors.items() if status.isdigit() and int(status) >= 500),
            "locked": rec.locked_bodies, "read_p95_ms": percentile(reads, .95), "read_p50_ms": percentile(reads, .5),
            "read_p99_ms": percentile(reads, .99), "reads_per_s": round(len(reads) / wall, 1),
            "first_event_ms": percentile(rec.first_event_ms, .95),
            "first_event_p50_ms": percentile(rec.first_event_ms, .5), "first_events": len(rec.first_event_ms),
            "requests_per_s": round(total / wall, 1), "wall_s": round(wall, 1), "errors": dict(errors),
            "endpoints": endpoints}


def server_errors(log: str) -> dict[str, Any]:
    """Exceptions in the server's log (final traceback lines), and how many were lock errors."""
    found = Counter()
    for line in log.splitlines():
        match = _EXC_LINE.match(line.strip())
        if match:
            found[f"{match.group(1)}: {match.group(2)[:100]}"] += 1
    locked = sum(n for text, n in found.items() if _LOCKED.search(text))
    return {"locked": locked, "exceptions": dict(found.most_common(10))}


def goals(report: dict[str, Any]) -> list[dict[str, Any]]:
    read, first = report["read_p95_ms"], report["first_event_ms"]
    return [
        {"goal": "no 5xx", "measured": report["errors_5xx"], "met": report["errors_5xx"] == 0},
        {"goal": "no lock errors", "measured": report["locked"], "met": report["locked"] == 0},
        {"goal": f"read p95 < 50 ms at 200 clients (here {report['clients']})", "measured": read,
         "met": read is not None and read < 50},
        {"goal": "first event p95 < 200 ms after a submit", "measured": first,
         "met": report["reads_only"] or (first is not None and first < 200)},
    ]


def table_rows(report: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    columns = ["endpoint", "count", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "statuses"]
    rows = [[name, e["count"], e["rps"], e["p50_ms"], e["p95_ms"], e["p99_ms"], e["max_ms"], e["statuses"]]
            for name, e in report["endpoints"].items()]
    summary = [["clients", report["clients"]], ["seconds", report["seconds"]], ["think ms", report["think_ms"]],
               ["requests/s", report["requests_per_s"]], ["reads/s", report["reads_per_s"]],
               ["read p50 / p95 / p99 ms",
                f"{report['read_p50_ms']} / {report['read_p95_ms']} / {report['read_p99_ms']}"],
               ["first event p50 / p95 ms", f"{report['first_event_p50_ms']} / {report['first_event_ms']}"],
               ["server CPU s (ms per request)",
                f"{report.get('server_cpu_s')} ({report.get('server_cpu_ms_per_request')})"],
               ["load generator CPU s", report.get("generator_cpu_s")],
               ["errors by status", report["errors"] or "none"], ["5xx", report["errors_5xx"]],
               ["lock errors", report["locked"]]]
    sections = [("Summary", ["", ""], summary), ("Per endpoint", columns, rows)]
    logged = report.get("server_log_errors", {}).get("exceptions")
    if logged:
        sections.append(("Exceptions in the server log", ["exception", "count"], [[k, v] for k, v in logged.items()]))
    profile = report.get("profile") or {}
    if profile.get("inclusive"):
        sections.append((f"Server profile (py-spy, {profile['samples']} samples): on the stack",
                         ["function", "% of samples"], profile["inclusive"]))
        sections.append(("Server profile: at the top of the stack (self time)", ["function", "% of samples"],
                         profile["self"]))
    return sections
