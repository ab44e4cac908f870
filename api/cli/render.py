"""Terminal output: the live progress display of a run and the summary tables."""
from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from agent.plan_schema import dependencies, original_step

console = Console(stderr=True)
out = Console()


def say(text: str) -> None:
    out.print(text)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


class RunProgress:
    """Stage, current step, steps done and elapsed time, redrawn as the run's events arrive."""

    def __init__(self, run_id: str, profile: str, *, total_steps: int, enabled: bool = True):
        self.progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.fields[stage]:<9}"), BarColumn(bar_width=20),
            MofNCompleteColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
            console=console, disable=not enabled, transient=False,
        )
        self.task = self.progress.add_task(f"run {run_id[:8]} ({profile} profile)", total=total_steps,
                                           stage="start")

    def __enter__(self) -> RunProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def model_loading(self, spec) -> None:
        note = " (first use builds or converts it)" if spec.source in ("tiny", "package") else ""
        self.progress.update(self.task, description=f"loading {spec.role} model {spec.model_id}{note}")

    def event(self, e: dict[str, Any]) -> None:
        if e["type"] == "stage":
            self.progress.update(self.task, stage=e["stage"], description=e.get("detail", ""))
        elif e["type"] == "step":
            self._step(e)
        elif e["type"] == "score":
            self.progress.update(self.task, stage="critique", description=f"{e['metric']} {e['value']}")

    def _step(self, e: dict[str, Any]) -> None:
        if e["status"] == "running":
            self.progress.update(self.task, stage="execute", description=f"{e['step']} ({e['tool']})")
        elif e["status"] == "succeeded":
            self.progress.advance(self.task)
        else:
            self.progress.update(self.task, description=f"[red]{e['step']} failed: {e.get('error')}")


def story_summary(summary: dict[str, Any]) -> None:
    """Per scene: narration, audio length, the winning picture's CLIP score and gate, revision rounds."""
    winners = {original_step(a["role"]) + "." + a["role"].split(".")[-1]: a
               for a in summary["assets"] if a["selected"]}
    rounds = {s["key"]: s["rounds"] for s in summary["steps"]}
    table = Table(title=summary.get("title") or "story", title_justify="left")
    for column in ("scene", "narration", "audio s", "clip score", "vs unrelated", "rounds"):
        table.add_column(column)
    i = 1
    while f"speech-{i}.audio" in winners or f"image-{i}.image" in winners:
        speech, image = winners.get(f"speech-{i}.audio", {}), winners.get(f"image-{i}.image", {})
        scores = image.get("scores", {})
        table.add_row(str(i), _clip(speech.get("intent", ""), 50), _num(speech.get("duration")),
                      _num(scores.get("clip_score")), _signed(scores.get("clip_gate")),
                      str(rounds.get(f"image-{i}", 0)))
        i += 1
    out.print(table)
    _status_lines(summary)


def _signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f}"


def _status_lines(summary: dict[str, Any]) -> None:
    kept = summary.get("adherence")
    adherence = f"  adherence {kept['adherence']:.2f}" if kept else ""
    out.print(f"run {summary['id']}  profile {summary['profile']}  storyboard by: {summary['storyboard_source']}"
              f"{adherence}")
    if summary["profile"] == "offline":
        out.print("  offline profile: images and CLIP scores come from tiny random models (they test the "
                  "plumbing, not the art); speech, narration and the LLM are real")
    for note in summary.get("storyboard_notes", []):
        out.print(f"  note: {note}")
    if summary["status"] == "succeeded":
        out.print(f"[green]succeeded[/] outputs in {summary['output_dir']}: storybook.html, story.mp4, "
                  "story.vtt, manifest.json")
    else:
        out.print(f"[red]{summary['status']}[/]: {summary['error']} (manifest in {summary['output_dir']})")


def runs_table(summaries: list[dict[str, Any]]) -> None:
    table = Table()
    for column in ("id", "status", "kind", "profile", "title", "created"):
        table.add_column(column)
    for r in summaries:
        table.add_row(r["id"], r["status"], r["kind"], r["profile"], _clip(r["title"] or r["request"], 40),
                      (r["created_at"] or "")[:19])
    out.print(table)


def run_detail(r: dict[str, Any]) -> None:
    out.print(f"[bold]{r['title'] or r['request']}[/]  ({r['kind']}, {r['profile']} profile)")
    out.print(f"id {r['id']}  status {r['status']}  created {r['created_at']}")
    out.print(f"request: {r['request']}")
    if r["error"]:
        out.print(f"[red]error:[/] {r['error']}")
    steps = Table(title="steps", title_justify="left")
    for column in ("step", "tool", "status", "seconds", "error"):
        steps.add_column(column)
    for s in r["steps"]:
        steps.add_row(s["key"], s["tool"], s["status"], _num(s["duration_s"]), s["error"] or "")
    out.print(steps)
    assets = Table(title="assets", title_justify="left")
    for column in ("role", "kind", "id", "scores"):
        assets.add_column(column)
    for a in r["assets"]:
        assets.add_row(a["role"] or "", a["kind"], a["id"], ", ".join(f"{k} {v}" for k, v in a["scores"].items()))
    out.print(assets)
    out.print(f"outputs: {r['output_dir']}")


def models_table(rows: list[dict[str, Any]]) -> None:
    table = Table()
    for column in ("role", "model", "profile", "kind", "path"):
        table.add_column(column)
    for m in rows:
        where = m["path"] or "not downloaded"
        if m["path"] and not m["present"]:
            where += " (built on first use)" if m["source"] != "hub" else " (missing)"
        table.add_row(m["role"], m["model_id"], m["profile"], m["kind"], where)
    out.print(table)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def eval_summary(summary: dict[str, Any], results: dict[str, Any], json_path, html_path) -> None:
    table = Table(title=f"{results['suite']} suite, {results['profile']} profile: {summary['cases']} cases, "
                        f"pass rate {summary['pass_rate']:.0%}", title_justify="left")
    for column in ("metric", "n", "mean", "median", "range", "published reference"):
        table.add_column(column)
    for metric, stats in summary["metrics"].items():
        table.add_row(metric, str(stats["n"]), str(stats["mean"]), str(stats["median"]),
                      f"{stats['min']} - {stats['max']}", results["references"].get(metric, ""))
    out.print(table)
    out.print(f"rounds to pass: {summary['rounds_to_pass']}  seconds per stage: {summary['stage_seconds']}")
    if grounding := summary.get("grounding"):
        _grounding_table(results["cases"], grounding)
    if seen := summary.get("visual_context"):
        w, v = seen["without"], seen["with"]
        out.print(f"visual context, {seen['cases']} videos: name accuracy {w['name_accuracy']:.0%} without, "
                  f"{v['name_accuracy']:.0%} with on-screen text; mean WER {w['wer']:.1%} without, {v['wer']:.1%} with")
    out.print(f"reports: {json_path} {html_path}")


def _grounding_table(cases: list[dict[str, Any]], grounding: dict[str, Any]) -> None:
    """Story cases: adherence and title per case, then overall."""
    table = Table(title="adherence to the request", title_justify="left")
    for column in ("case", "adherence", "title", "lost"):
        table.add_column(column)
    for case in cases:
        title = (case.get("title") or "") + (f" [red](junk: {case['junk_title']})[/]" if case.get("junk_title") else "")
        table.add_row(case["id"], str(case.get("adherence")), title, ", ".join(case.get("lost", [])))
    out.print(table)
    fell_back = (f"; {grounding['fallback_scenes']} of {grounding['scenes']} scenes deterministic"
                 if "scenes" in grounding else "")
    out.print(f"adherence: mean {grounding['adherence']}, lowest {grounding['adherence_min']}; junk titles: "
              f"{len(grounding['junk_titles'])}{fell_back}")


def plan_detail(summary: str, plan) -> None:
    out.print(summary)
    if plan is None:
        return
    table = Table()
    for column in ("step", "tool", "after", "args"):
        table.add_column(column)
    for step in plan.steps:
        table.add_row(step.id, step.tool, ", ".join(sorted(dependencies(step))), _clip(json.dumps(step.args), 70))
    out.print(table)
