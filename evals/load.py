"""Load suite: `python -m evals.load [--clients N] [--seconds S] [--postgres] [--json]`.

Starts one real server (`python -m api.cli serve`, a subprocess) on a throw-away data dir, seeds
each API key with finished runs, assets and sessions, then runs N simulated clients for S seconds
from this process (a second process: the generator never shares the server's interpreter and GIL).
The mix: 80 % readers, 10 % event streamers, 10 % submitters (see `evals.load_clients`). It prints
p50/p95/p99 per endpoint, errors by status, "database is locked" (and other lock) errors from the
responses and the server log, and the delay from a submit to its first event; and writes
report.json and report.html under --out.

Goals (issue 18): no 5xx, no lock errors, read p95 < 50 ms at 200 clients, first event < 200 ms.
Clients think 0.5-1.5x --think-ms between requests (default 1000: a page polling once a second).
With --think-ms 0 each client fires back to back, which measures capacity, not latency: by Little's
law N clients then wait N / throughput on average, whatever the server does.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from evals import proof_report, pyspy
from evals.httpraw import Connection
from evals.load_clients import READS, SUBMISSIONS, KeyData, Mix, Recorder, reader, streamer, submitter
from evals.load_seed import seed_key
from evals.load_stats import goals, server_errors, summarize, table_rows
from evals.media import png
from evals.serverproc import SMALL_RUNS_ENV, ServerProcess, create_keys, stage


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m evals.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=200, help="concurrent simulated clients (default 200)")
    p.add_argument("--seconds", type=float, default=60, help="how long the load runs (default 60)")
    p.add_argument("--think-ms", type=float, default=1000, help="mean pause between a client's requests")
    p.add_argument("--keys", type=int, help="API keys the clients share (default clients/25, at least 2)")
    p.add_argument("--submit", choices=sorted(SUBMISSIONS), default="narration",
                   help="what submitters submit: narration (a decorative picture: no model work; default) or brief "
                   "(one short spoken narration: model work on the same cores)")
    p.add_argument("--cancel", action="store_true", help="submitters cancel each run after its first event")
    p.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL cluster instead of SQLite")
    p.add_argument("--database-url", help="an existing, migrated database instead (it is written to)")
    p.add_argument("--reads-only", action="store_true", help="only GET /v1/runs and /v1/runs/{id} (the issue's probe)")
    p.add_argument("--py-spy", action="store_true", help="sample the server with py-spy while the load runs")
    p.add_argument("--data-dir", type=Path, help="keep the server's data dir here; an already seeded one is reused "
                   "as it is (repeat measurements without seeding again; SQLite or --database-url)")
    p.add_argument("--out", type=Path, help="report folder (default <data dir>/evals/load-<time>)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = p.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.think_ms < 0:
        p.error("--clients must be >= 1, --seconds > 0 and --think-ms >= 0")
    return args


def run_load(args: argparse.Namespace) -> dict:
    """Everything but printing: start, seed, load, profile, summarise; returns the report."""
    if args.py_spy and not pyspy.available():
        raise SystemExit("--py-spy: py-spy is not installed (pip install py-spy)")
    where = proof_report.machine()
    out = args.out or proof_report.default_out("load")
    out.mkdir(parents=True, exist_ok=True)
    with (stage("postgres" if args.postgres else "sqlite", args.database_url, SMALL_RUNS_ENV, args.data_dir) as st,
          tempfile.TemporaryDirectory(prefix="storyloom-load-library-") as folder):
        library = Path(folder)  # outside the data folder: the server refuses roots that overlap it
        (library / "rule.png").write_bytes(png(photo=False))
        env = {**st.env, "STORYLOOM_NARRATION__LIBRARY_ROOTS": json.dumps([str(library)])}
        server = ServerProcess(env, out / "server.log")
        _say(f"server on {st.database} started in {server.start():.1f} s (pid {server.pid})")
        try:
            datas = _seeded(st, server, args)
            profile = _profile_start(server, args, out)
            started, server_cpu, own_cpu = time.perf_counter(), server.cpu_seconds(), time.process_time()
            recorder = asyncio.run(drive(server.port, datas, args))
            wall = time.perf_counter() - started
            cpu = {"server_cpu_s": round(server.cpu_seconds() - server_cpu, 1),
                   "generator_cpu_s": round(time.process_time() - own_cpu, 1)}
            hot = _profile_end(profile, out)
        finally:
            server.stop()
        database = st.database
    report = summarize(recorder, wall, args, database)
    requests = sum(e["count"] for e in report["endpoints"].values()) or 1
    cpu["server_cpu_ms_per_request"] = round(1000 * cpu["server_cpu_s"] / requests, 2)
    report.update(cpu, machine=where, server_log_errors=server_errors(server.log_text()), profile=hot)
    report["locked"] += report["server_log_errors"]["locked"]
    report["goals"] = goals(report)
    proof_report.write(out, report, f"Storyloom load: {args.clients} clients, {args.seconds:g} s, {database}",
                       table_rows(report), _notes(args))
    report["out"] = str(out)
    return report


async def drive(port: int, datas: list[KeyData], args: argparse.Namespace) -> Recorder:
    recorder = Recorder()
    think = args.think_ms / 1000
    mix = Mix(think_s=think, stop_at=time.perf_counter() + args.seconds, cancel=args.cancel, submission=args.submit)
    submitters = 0 if args.reads_only else max(1, round(args.clients * 0.1))
    streamers = 0 if args.reads_only else round(args.clients * 0.1)
    reads = READS[:2] if args.reads_only else READS
    connections, tasks = [], []
    for i in range(args.clients):
        data = datas[i % len(datas)]
        conn = Connection("127.0.0.1", port, {"Authorization": f"Bearer {data.key}"})
        connections.append(conn)
        if i < submitters:
            stream = Connection("127.0.0.1", port, {"Authorization": f"Bearer {data.key}"})
            connections.append(stream)
            task = submitter(conn, stream, data, recorder, mix)
        elif i < submitters + streamers:
            task = streamer(conn, data, recorder, mix)
        else:
            task = reader(conn, data, recorder, mix, reads)
        tasks.append(_staggered(task, random.Random(i).uniform(0, think or 0.05)))
    try:
        await asyncio.gather(*tasks)
    finally:
        for conn in connections:
            conn.close()
    return recorder


def _seeded(st, server: ServerProcess, args: argparse.Namespace) -> list[KeyData]:
    """Each key's runs, assets and sessions: read back from seed.json in a reused data dir, else made now."""
    saved = st.data_dir / "seed.json"
    if args.data_dir and saved.exists():
        datas = [KeyData(**data) for data in json.loads(saved.read_text())]
        _say(f"reusing the {len(datas)} seeded keys of {st.data_dir}")
        return datas
    keys = create_keys(st.env, [f"load-{i}" for i in range(args.keys or max(2, args.clients // 25))])
    seeding = time.perf_counter()
    datas = [seed_key(server.base_url, key) for key in keys]
    saved.write_text(json.dumps([vars(d) for d in datas]))
    _say(f"seeded {len(keys)} keys in {time.perf_counter() - seeding:.1f} s")
    return datas


def _say(text: str) -> None:
    print(f"[load] {text}", file=sys.stderr, flush=True)


async def _staggered(task, delay: float) -> None:
    await asyncio.sleep(delay)  # clients arrive spread over one think time, not all in the same tick
    await task


def _profile_start(server: ServerProcess, args: argparse.Namespace, out: Path):
    if not args.py_spy:
        return None
    return pyspy.record(server.pid, args.seconds, out / "profile.folded")


def _profile_end(process, out: Path) -> dict | None:
    if process is None:
        return None
    _, err = process.communicate(timeout=120)
    folded = out / "profile.folded"
    if not folded.exists():
        return {"error": err.decode(errors="replace").strip()[-300:]}
    return pyspy.top_functions(folded)


def _notes(args: argparse.Namespace) -> list[str]:
    return [f"Clients think {args.think_ms:g} ms on average (0.5-1.5x) between requests; each client is a "
            "closed loop (it waits for its answer).",
            "The load generator is this process (asyncio, raw HTTP/1.1); the server is a separate process "
            "(`python -m api.cli serve`, defaults: 1 run worker, 20 runs in flight per key). Both share the "
            "machine's cores.",
            ("Submissions are narration jobs on a decorative picture of the server's library: real runs that need "
             "no model, so the figures are the API's and the runner's." if args.submit == "narration" else
             "Submissions are briefs with one short spoken narration: text-to-speech and its check run on the same "
             "cores.") + (" Each is cancelled after its first event." if args.cancel else ""),
            "The first event delay is measured from sending the POST to receiving the first event on a stream "
            "opened as soon as the 202 arrived."]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run_load(args)
    if args.json:
        print(json.dumps(report, default=str))
        return 0
    proof_report.print_tables(table_rows(report))
    print(f"\nreport: {report['out']}/report.html")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
