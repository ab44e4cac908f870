"""Reports of a suite run: report.json (every number) and report.html (tables and histograms).

The HTML is self-contained (plots embedded as PNG data URIs) and puts the profile and each metric's
published reference at the top, so nobody mistakes tiny-model numbers for quality.
"""
from __future__ import annotations

import base64
import io
import json
import statistics
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """Per metric: count, mean, median, min, max; pass rate; rounds-to-pass; mean seconds per stage."""
    cases = results["cases"]
    values: dict[str, list[float]] = {}
    for case in cases:
        for metric, found in case.get("metrics", {}).items():
            values.setdefault(metric, []).extend(found)
    stages: dict[str, list[float]] = {}
    for case in cases:
        for stage, seconds in case.get("stages", {}).items():
            stages.setdefault(stage, []).append(seconds)
    passed = [c for c in cases if c["passed"]]
    return {
        "cases": len(cases), "pass_rate": round(len(passed) / len(cases), 3) if cases else 0.0,
        "failed_runs": [c["id"] for c in cases if c["status"] != "succeeded"],
        "metrics": {m: _stats(v) for m, v in sorted(values.items())},
        "rounds_to_pass": dict(sorted(Counter(max(c["rounds"] or [0]) for c in passed).items())),
        "stage_seconds": {s: round(statistics.mean(v), 2) for s, v in stages.items()},
        "seconds_per_case": round(statistics.mean(c["seconds"] for c in cases), 2) if cases else 0.0,
        **({"round_trip": _round_trip(cases)} if any("words" in c for c in cases) else {}),
        **({"grounding": _grounding(cases)} if any("junk_title" in c for c in cases) else {}),
        **({"visual_context": results["visual_context"]["summary"]} if results.get("visual_context") else {}),
    }


def _grounding(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Story cases: mean and lowest adherence, the junk titles, and how many scenes fell back."""
    kept = [c["adherence"] for c in cases if c.get("adherence") is not None]
    out = {"adherence": round(statistics.mean(kept), 3) if kept else None, "adherence_min": min(kept, default=None),
           "junk_titles": [c["id"] for c in cases if c.get("junk_title")]}
    if any("fallback_scenes" in c for c in cases):
        out["fallback_scenes"] = sum(c.get("fallback_scenes", 0) for c in cases)
        out["scenes"] = sum(c.get("scenes", 0) for c in cases)
    return out


def _round_trip(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Narration round trip over the suite: the corpus WER (all word errors over all script words) and how
    many scripts came back word for word. Exactness is a figure here, not a test: which words whisper hears
    depends on the CPU's rounding too ("waited" was heard as "weighted" on one machine)."""
    heard = [c for c in cases if "words" in c]
    words = sum(c["words"] for c in heard)
    return {"corpus_wer": round(sum(c["word_errors"] for c in heard) / words, 4) if words else 0.0,
            "exact": sum(c["word_errors"] == 0 for c in heard), "scripts": len(heard)}


def _stats(v: list[float]) -> dict[str, float]:
    return {"n": len(v), "mean": round(statistics.mean(v), 4), "median": round(statistics.median(v), 4),
            "min": round(min(v), 4), "max": round(max(v), 4)}


def write_reports(results: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    report = {**results, "summary": summarise(results)}
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    (out / "report.html").write_text(render_html(report), encoding="utf-8")
    return out / "report.json", out / "report.html"


def render_html(report: dict[str, Any]) -> str:
    summary = report["summary"]
    title = f"Storyloom eval: {report['suite']} suite, {report['profile']} profile"
    warning = ("<p class=warn>Offline profile: pictures, captions and CLIP scores come from tiny random models. "
               "These numbers test the pipeline, not quality.</p>") if report["profile"] == "offline" else ""
    parts = [f"<h1>{escape(title)}</h1>{warning}",
             f"<p>{summary['cases']} cases, pass rate {summary['pass_rate']:.0%}, {summary['seconds_per_case']} s per "
             f"case; gate {escape(json.dumps(report['gate']))}, up to {report['max_rounds']} revision rounds.</p>",
             _round_trip_line(summary.get("round_trip")), _grounding_line(summary.get("grounding")),
             visual_context_line(summary.get("visual_context")),
             _metrics_table(summary["metrics"], report["references"]), _plots(report),
             _small_table("rounds to pass", summary["rounds_to_pass"]),
             _small_table("mean seconds per stage", summary["stage_seconds"]), _cases_table(report["cases"])]
    return ("<!doctype html><html lang=en><head><meta charset=utf-8><title>" + escape(title) + "</title><style>"
            "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:"
            "collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}"
            ".warn{background:#fff3cd;padding:.6rem}img{max-width:100%}</style></head><body>"
            + "".join(parts) + "</body></html>\n")


def _round_trip_line(round_trip: dict[str, Any] | None) -> str:
    if not round_trip:
        return ""
    return (f"<p>Round trip: corpus WER {round_trip['corpus_wer']:.1%}; {round_trip['exact']} of "
            f"{round_trip['scripts']} scripts heard word for word.</p>")


def visual_context_line(seen: dict[str, Any] | None) -> str:
    """Name accuracy and WER of speech heard without and with the on-screen text as context."""
    if not seen or not seen.get("cases"):
        return ""
    without, with_ = seen["without"], seen["with"]
    return (f"<p>Visual context ({seen['cases']} videos showing and speaking a name): name accuracy "
            f"{without['name_accuracy']:.0%} without, {with_['name_accuracy']:.0%} with the on-screen text; "
            f"mean WER {without['wer']:.1%} without, {with_['wer']:.1%} with.</p>")


def _grounding_line(grounding: dict[str, Any] | None) -> str:
    if not grounding:
        return ""
    junk = ", ".join(grounding["junk_titles"]) or "none"
    return (f"<p>Adherence to the request: mean {grounding['adherence']}, lowest {grounding['adherence_min']}; "
            f"junk titles: {escape(junk)}.</p>")


def _metrics_table(metrics: dict[str, dict], references: dict[str, str]) -> str:
    rows = "".join(f"<tr><td>{escape(m)}</td><td>{s['n']}</td><td>{s['mean']}</td><td>{s['median']}</td>"
                   f"<td>{s['min']} - {s['max']}</td><td>{escape(references.get(m, 'none published'))}</td></tr>"
                   for m, s in metrics.items())
    return ("<h2>Metrics</h2><table><tr><th>metric</th><th>n</th><th>mean</th><th>median</th><th>range</th>"
            f"<th>published reference</th></tr>{rows}</table>")


def _small_table(title: str, data: dict) -> str:
    rows = "".join(f"<tr><td>{escape(str(k))}</td><td>{v}</td></tr>" for k, v in data.items())
    return f"<h2>{escape(title)}</h2><table>{rows}</table>"


def _cases_table(cases: list[dict]) -> str:
    rows = "".join(f"<tr><td>{escape(c['id'])}</td><td>{c['status']}</td><td>{'yes' if c['passed'] else 'no'}</td>"
                   f"<td>{c['rounds']}</td><td>{c['seconds']}</td><td>{c.get('adherence', '')}</td>"
                   f"<td>{escape(c.get('title') or '')}{' (junk)' if c.get('junk_title') else ''}</td>"
                   f"<td>{escape(c.get('error') or '')}</td></tr>" for c in cases)
    return ("<h2>Cases</h2><table><tr><th>case</th><th>run</th><th>passed gates</th><th>rounds</th>"
            f"<th>seconds</th><th>adherence</th><th>title</th><th>error</th></tr>{rows}</table>")


def _plots(report: dict[str, Any]) -> str:
    """One histogram per metric, embedded as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    values: dict[str, list[float]] = {}
    for case in report["cases"]:
        for metric, found in case.get("metrics", {}).items():
            values.setdefault(metric, []).extend(found)
    images = []
    for metric, found in sorted(values.items()):
        fig, ax = plt.subplots(figsize=(5, 2.6))
        ax.hist(found, bins=min(20, max(5, len(found))), color="#4a7ab5")
        ax.set_title(f"{metric} ({report['profile']} profile)")
        ax.set_xlabel(metric)
        ax.set_ylabel("assets")
        buf = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buf, format="png", dpi=90)
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode()
        images.append(f'<img alt="histogram of {escape(metric)}" src="data:image/png;base64,{data}">')
    return "<h2>Distributions</h2>" + "".join(images)
