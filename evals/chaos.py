"""Chaos suite: `python -m evals.chaos [--runs R] [--kinds story,chat,brief,narration] [--postgres] [--json]`.

Starts one real server (`python -m api.cli serve`, a subprocess) on a throw-away data dir, makes one
uninterrupted reference run of each kind, then R rounds: in each, one run of every kind, and for
each run the server is SIGKILLed at a random moment (see `evals.chaos_runner`) and started again
while the client reconnects. Each run is then audited (see `evals.chaos_audit`) against its
reference: completed, assets lost or duplicated, events missing or repeated, and the chat sessions'
turns and replies. The reference runs are audited too: a problem they show is not the kill's doing.
Prints the totals and writes report.json and report.html.

Goal (issue 18): every run completes, nothing lost, nothing duplicated, no event missing or repeated.
This suite fixes nothing: it measures, and names the run, the kill phase and what broke.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from evals import proof_report
from evals.chaos_audit import audit_session
from evals.chaos_kinds import KINDS, Round
from evals.chaos_runner import Context, chaos_run, reference
from evals.serverproc import SMALL_RUNS_ENV, ServerProcess, create_keys, stage
from memory import AssetStore, open_database

TOTALS = ("assets_lost", "assets_duplicated", "events_missing", "events_repeated")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m evals.chaos", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=20, help="rounds; each has one run of every kind (default 20)")
    p.add_argument("--kinds", default=",".join(KINDS), help="comma-separated kinds of a round, in order "
                   "(repeats allowed; chat needs a story before it); default story,chat,brief,narration")
    p.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL cluster instead of SQLite")
    p.add_argument("--database-url", help="an existing, migrated database instead (it is written to)")
    p.add_argument("--seed", type=int, default=1, help="seed of the kill moments (default 1)")
    p.add_argument("--timeout", type=float, default=900, help="seconds one run may take, kill included")
    p.add_argument("--out", type=Path, help="report folder (default <data dir>/evals/chaos-<time>)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = p.parse_args(argv)
    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in args.kinds if k not in KINDS]
    if unknown or args.runs < 1 or not args.kinds:
        p.error(f"--runs must be >= 1 and --kinds a list of {', '.join(KINDS)} (got {unknown or args.kinds})")
    if "chat" in args.kinds and ("story" not in args.kinds or args.kinds.index("chat") < args.kinds.index("story")):
        p.error("--kinds: a chat turn edits the round's story, so story must come before chat")
    return args


def run_chaos(args: argparse.Namespace) -> dict[str, Any]:
    where = proof_report.machine()
    out = args.out or proof_report.default_out("chaos")
    out.mkdir(parents=True, exist_ok=True)
    with stage("postgres" if args.postgres else "sqlite", args.database_url, SMALL_RUNS_ENV) as st:
        server = ServerProcess(st.env, out / "server.log")
        _say(f"server on {st.database} started in {server.start():.1f} s")
        db = open_database(st.database_url, auto_upgrade=False)
        ctx = Context(server, db, AssetStore(st.data_dir / "assets"), random.Random(args.seed), args.timeout)
        try:
            keys = create_keys(st.env, [f"chaos-{i}" for i in range(args.runs + 1)])
            references = _references(ctx, Round(-1, keys[0]), args.kinds)
            runs, sessions = _rounds(ctx, keys[1:], args.kinds, references)
        finally:
            server.stop()
            db.close()
        database = st.database
    report = summarize(runs, sessions, references, args, database)
    report["machine"] = where
    proof_report.write(out, report, f"Storyloom chaos: {len(runs)} killed runs, {database}", tables(report),
                       _notes())
    report["out"] = str(out)
    return report


def _references(ctx: Context, rnd: Round, kinds: list[str]) -> dict:
    refs = {}
    for kind in dict.fromkeys(kinds):
        refs[kind] = reference(ctx, rnd, kind)
        _say(f"reference {kind}: {refs[kind].duration_s:.1f} s, {refs[kind].events} events")
    return refs


def _rounds(ctx: Context, keys: list[str], kinds: list[str], refs: dict) -> tuple[list[dict], list[dict]]:
    runs, sessions = [], []
    for number, key in enumerate(keys):
        rnd = Round(number, key)
        for index, kind in enumerate(kinds):
            started = time.monotonic()
            result = chaos_run(ctx, rnd, kind, refs[kind], index)
            runs.append(result)
            problems = sum(len(result[k]) for k in ("lost", "duplicated", "events_missing", "events_repeated"))
            _say(f"round {number} {kind}: killed {result['kill_after_s']} s in ({result['phase']}, "
                 f"{result['landed']}), {result['status']}, {problems} problems, {time.monotonic() - started:.0f} s")
        if rnd.session_id:
            sessions.append({"round": number, **audit_session(ctx.db, rnd.session_id)})
    return runs, sessions


def summarize(runs: list[dict], sessions: list[dict], refs: dict, args, database: str) -> dict[str, Any]:
    statuses: dict[str, Counter] = defaultdict(Counter)
    for run in runs:
        statuses[run["kind"]][run["status"]] += 1  # the suite's kind: a chat turn is a run of kind story
    orphans = sum(len(s["runs_without_user_turn"]) for s in sessions)
    return {
        "runs": len(runs), "completed": sum(r["status"] == "succeeded" for r in runs),
        "assets_lost": sum(len(r["lost"]) for r in runs), "assets_duplicated": sum(len(r["duplicated"]) for r in runs),
        "events_missing": sum(len(r["events_missing"]) for r in runs),
        "events_repeated": sum(len(r["events_repeated"]) for r in runs),
        "assets_differ": sum(len(r["differ"]) for r in runs),
        "duplicate_submissions": sum(r["runs_submitted"] - 1 for r in runs), "chat_turns_without_user_message": orphans,
        "chat_reply_problems": sum(len(s["reply_problems"]) for s in sessions),
        "final_statuses": {kind: dict(c) for kind, c in statuses.items()},
        "kills": dict(Counter(f"{r['phase']}, {r['landed']}" for r in runs)), "database": database,
        "kinds": args.kinds, "rounds": args.runs, "seed": args.seed,
        "references": {k: {"run_id": v.run_id, "seconds": round(v.duration_s, 1), "events": v.events,
                           "assets": sum(v.signature.values()), "problems": v.problems} for k, v in refs.items()},
        "details": runs, "sessions": sessions,
        "goals": [{"goal": "every run completes", "measured": f"{sum(r['status'] == 'succeeded' for r in runs)} of "
                   f"{len(runs)}", "met": all(r["status"] == "succeeded" for r in runs)}]
        + [{"goal": f"{name.replace('_', ' ')} = 0", "measured": sum(len(r[key]) for r in runs),
            "met": not any(r[key] for r in runs)}
           for name, key in zip(TOTALS, ("lost", "duplicated", "events_missing", "events_repeated"), strict=True)],
    }


def tables(report: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    keys = ("runs", "completed", *TOTALS, "assets_differ", "duplicate_submissions",
            "chat_turns_without_user_message", "chat_reply_problems")
    totals = [[k.replace("_", " "), report[k]] for k in keys]
    statuses = [[kind, json.dumps(c)] for kind, c in report["final_statuses"].items()]
    refs = [[k, v["seconds"], v["events"], v["assets"], "; ".join(v["problems"]) or "none"]
            for k, v in report["references"].items()]
    problems = [[r["round"], r["kind"], r["run_id"][:8], r["phase"], r["kill_after_s"], r["landed"],
                 r["status_at_kill"], r["status"], "; ".join(r["lost"] + r["duplicated"] + r["events_missing"]
                                                             + r["events_repeated"]) or "none"]
                for r in report["details"]]
    return [("Totals", ["", ""], totals), ("Final statuses", ["kind", "statuses"], statuses),
            ("Kills", ["phase, landed", "count"], [[k, v] for k, v in report["kills"].items()]),
            ("Reference runs (never killed)", ["kind", "seconds", "events", "assets", "problems"], refs),
            ("Every killed run", ["round", "kind", "run", "phase", "killed after s", "landed", "status at kill",
                                  "final status", "problems"], problems)]


def _notes() -> list[str]:
    return ["Each run's server was SIGKILLed once and started again; the client reconnected with Last-Event-ID.",
            "Runs are small (64 px pictures, one-scene stories, a closed-port LLM, so texts come from the recipes); "
            "the critic's revision rounds are on (the server's default).",
            "Lost, duplicated and event problems are listed per run with the output slot or event they concern."]


def _say(text: str) -> None:
    print(f"[chaos] {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run_chaos(args)
    if args.json:
        print(json.dumps(report, default=str))
        return 0
    proof_report.print_tables(tables(report)[:4])
    print(f"\nreport: {report['out']}/report.html")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
