"""Reports of the chaos and load suites: `report.json` (every figure) and a self-contained `report.html`
with the date, the machine (CPU model, cores, load, Python) and the database, the goals and whether
each was met, and one table per section. No scripts, no external files; plain tables (WCAG 2.2 AA).
"""
from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from agent.settings import Settings


def machine() -> dict[str, Any]:
    """Where the figures were measured: they mean little without it."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), "cpu": model, "cores": os.cpu_count(),
            "load_average_1m": round(load[0], 2), "python": sys.version.split()[0],
            "platform": platform.platform(terse=True)}


def default_out(suite: str) -> Path:
    """<data dir>/evals/<suite>-<UTC timestamp>."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Settings().data_dir.resolve() / "evals" / f"{suite}-{stamp}"


def write(out: Path, report: dict[str, Any], title: str, sections: list[tuple[str, list[str], list[list[Any]]]],
          notes: list[str] | None = None) -> tuple[Path, Path]:
    """report.json and report.html in `out`; `sections` are (heading, column names, rows)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    (out / "report.html").write_text(render(report, title, sections, notes or []), encoding="utf-8")
    return out / "report.json", out / "report.html"


def render(report: dict[str, Any], title: str, sections: list[tuple[str, list[str], list[list[Any]]]],
           notes: list[str]) -> str:
    where = report.get("machine", {})
    facts = [("date", where.get("date")), ("CPU", where.get("cpu")), ("cores", where.get("cores")),
             ("load average (1 min) at start", where.get("load_average_1m")), ("Python", where.get("python")),
             ("platform", where.get("platform")), ("database", report.get("database"))]
    parts = [f"<h1>{escape(title)}</h1>", _table("Where and when", ["", ""], [[k, v] for k, v in facts])]
    goals = report.get("goals") or []
    if goals:
        rows = [[g["goal"], g["measured"], "met" if g["met"] else "MISSED"] for g in goals]
        parts.append(_table("Goals", ["goal", "measured", "verdict"], rows))
    parts += [_table(heading, columns, rows) for heading, columns, rows in sections]
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    return ("<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport "
            "content='width=device-width, initial-scale=1'><title>" + escape(title) + "</title><style>"
            "body{font-family:sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}"
            "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #767676;padding:.3rem .6rem;"
            "text-align:left}th{background:#f0f0f0}caption{text-align:left;font-weight:bold;padding:.3rem 0}"
            "</style></head><body><main>" + "".join(parts) + "</main></body></html>\n")


def print_tables(sections: list[tuple[str, list[str], list[list[Any]]]]) -> None:
    """The same tables as the HTML, as aligned text for a terminal."""
    for heading, columns, rows in sections:
        cells = [[_cell(v) for v in row] for row in rows]
        widths = [max(len(str(c)), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)] if cells else []
        print(f"\n{heading}")
        if any(columns) and widths:
            print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths, strict=True)))
        for row in cells:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _table(heading: str, columns: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th scope=col>{escape(str(c))}</th>" for c in columns) if any(columns) else ""
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows)
    return (f"<section><h2>{escape(heading)}</h2><table>"
            + (f"<thead><tr>{head}</tr></thead>" if head else "") + f"<tbody>{body}</tbody></table></section>")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def print_figures(title: str, result: dict[str, Any], goals: dict[str, str], goal_name: str = "target") -> None:
    """A benchmark's figures as a table on the terminal: metric, value and its goal."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ("metric", "value", goal_name):
        table.add_column(column)
    for key, value in result.items():
        table.add_row(key, str(value), goals.get(key, ""))
    Console().print(table)
