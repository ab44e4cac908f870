"""The narration report: `report.json` and a self-contained `report.html` (no scripts, no external files).

Everything shown comes from files and models, so every value is HTML-escaped: a file named
`<script>.png` or a caption with markup must show as text.
"""
from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

WCAG = {"1.1.1": "Non-text Content (A)", "1.2.1": "Audio-only and Video-only, Prerecorded (A)",
        "1.2.3": "Audio Description or Media Alternative, Prerecorded (A)",
        "1.2.5": "Audio Description, Prerecorded (AA)", "1.2.7": "Extended Audio Description, Prerecorded (AAA)"}
HEURISTICS = ("The decorative flag (without a sidecar), chart detection and bar counts are pixel heuristics; "
              "alt text comes from what the models saw plus the sidecar context: on the cpu and gpu profiles the "
              "BLIP captioner, on the offline profile an ImageNet classifier (EfficientNet-Lite0, 1,000 classes, "
              "worded by how sure it is), and on every profile the words OCR (PP-OCRv6) read in the picture.")
# Published human audio description, per description (cue): TV-AD (Xie et al., 2024) and CMD-AD (Han et al., 2024).
HUMAN_AD = {"TV-AD": {"median_words": 6, "median_seconds": 1.66, "words_per_second": 3.9},
            "CMD-AD": {"median_words": 8, "median_seconds": None, "words_per_second": 3.7}}


def build_report(run_id: str, profile: str, items: list[dict[str, Any]], *, seconds: float,
                 cancelled: bool = False) -> dict[str, Any]:
    """Totals at the top, then every item as recorded in the manifest."""
    statuses = Counter(i["status"] for i in items)
    criteria = Counter(c for i in items if i["status"] == "done" for c in i.get("wcag", []))
    return {
        "run_id": run_id, "profile": profile, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cancelled": cancelled, "notes": HEURISTICS,
        "totals": {"items": len(items), "done": statuses["done"], "failed": statuses["failed"],
                   "resumed": sum(1 for i in items if i.get("resumed")),
                   "by_kind": dict(Counter(i["kind"] for i in items)),
                   "wcag": {c: criteria[c] for c in sorted(criteria)},
                   "warnings": sum(len(i.get("warnings", [])) for i in items), "seconds": round(seconds, 2)},
        "wcag_criteria": WCAG, "ad_cues": cue_lengths(items), "items": items,
    }


def cue_lengths(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Our audio description cues' length (words, seconds) and speaking rate beside human describers'."""
    cues = [c for i in items if i["status"] == "done" for c in (i.get("data") or {}).get("cues", [])]
    words = [len(str(c["text"]).split()) for c in cues]
    seconds = [float(c["duration"]) for c in cues]
    ours = {"cues": len(cues), "median_words": statistics.median(words) if cues else None,
            "median_seconds": round(statistics.median(seconds), 2) if cues else None,
            "words_per_second": round(sum(words) / sum(seconds), 2) if sum(seconds) > 0 else None}
    return {"ours": ours, **HUMAN_AD}


def write_report(out_dir: Path, report: dict[str, Any]) -> tuple[Path, Path]:
    json_path, html_path = out_dir / "report.json", out_dir / "report.html"
    json_path.write_text(json.dumps(report, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
    return json_path, html_path


_STYLE = ("body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#111}"
          "table{border-collapse:collapse;width:100%}td,th{border:1px solid #bbb;padding:.35rem;text-align:left;"
          "vertical-align:top}th{background:#eee}.failed{color:#a00000}.done{color:#005a00}"
          "section{border-top:2px solid #333;margin-top:1.5rem}code{word-break:break-all}")


def render_html(report: dict[str, Any]) -> str:
    t = report["totals"]
    head = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Narration report</title>"
            f"<style>{_STYLE}</style></head><body><main><h1>Narration report</h1>"
            f"<p>Run <code>{escape(report['run_id'])}</code>, {escape(report['profile'])} profile, "
            f"{escape(report['created_at'])}{', cancelled' if report['cancelled'] else ''}.</p>"
            f"<p>{escape(report['notes'])}</p>")
    totals = _table(["items", "done", "failed", "resumed", "warnings", "seconds"],
                    [[t["items"], t["done"], t["failed"], t["resumed"], t["warnings"], t["seconds"]]])
    criteria = _table(["WCAG 2.2 criterion", "items served"],
                      [[f"{c} {report['wcag_criteria'].get(c, '')}", n] for c, n in t["wcag"].items()])
    body = "".join(_item(i) for i in report["items"])
    return f"{head}<h2>Totals</h2>{totals}{criteria}{_cue_table(report)}<h2>Items</h2>{body}</main></body></html>\n"


def _cue_table(report: dict[str, Any]) -> str:
    """Description length and speaking rate, ours beside published human audio description."""
    rows = report.get("ad_cues") or {}
    if not (rows.get("ours") or {}).get("cues"):
        return ""
    shown = [[who, "" if v["median_words"] is None else v["median_words"],
              "" if v["median_seconds"] is None else v["median_seconds"],
              "" if v["words_per_second"] is None else v["words_per_second"]]
             for who, v in (("ours", rows["ours"]), *((k, rows[k]) for k in HUMAN_AD))]
    return ("<h2>Audio description beside human describers</h2>"
            + _table(["describer", "median words per cue", "median seconds per cue", "words per second"], shown))


def _item(item: dict[str, Any]) -> str:
    status = escape(item["status"]) + (" (from an earlier run)" if item.get("resumed") else "")
    rows = [["status", f"<span class='{escape(item['status'])}'>{status}</span>"], ["kind", escape(item["kind"])]]
    if item.get("error"):
        rows.append(["error", f"<span class='failed'>{escape(item['error'])}</span>"])
    data = item.get("data") or {}
    for key in ("alt", "decorative", "decorative_reason", "alt_source", "long_description", "caption",
                "transcript"):
        if data.get(key) not in (None, ""):
            rows.append([key.replace("_", " "), escape(str(data[key]))])
    if item.get("kind") == "image" and data.get("decorative"):
        rows.append(["alt", "(empty: decorative)"])
    for name, value in (("outputs", item.get("outputs")), ("scores", item.get("scores")),
                        ("gaps", item.get("gaps"))):
        if value:
            rows.append([name, "<br>".join(f"{escape(str(k))}: {escape(_short(v))}" for k, v in value.items())])
    if item.get("wcag"):
        rows.append(["WCAG 2.2", escape(", ".join(item["wcag"]))])
    if item.get("warnings"):
        rows.append(["warnings", "<br>".join(escape(w) for w in item["warnings"])])
    table = "".join(f"<tr><th scope='row'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<section><h3><code>{escape(item.get('name') or item['path'])}</code></h3><table>{table}</table></section>"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 300 else text[:299] + "…"


def _table(columns: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th scope='col'>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
