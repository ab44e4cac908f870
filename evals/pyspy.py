"""A sampling profile of the server process under load, taken from outside with py-spy (no code in
the server changes, and the sampled process is not paused: `--nonblocking`). Only the thread that holds
the GIL is sampled (`--gil`): the server is one Python process, so that is where its CPU time goes;
threads waiting for work or for the GIL do not dilute the figures.

`py-spy` is not a dependency of Storyloom: install it with `pip install py-spy` (the `perf` extra).
The raw output is folded stacks (one line per distinct stack, with its sample count), which
speedscope and flamegraph.pl read; `top_functions` condenses it into the table of the report.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path


def available() -> str | None:
    """The py-spy binary: on PATH, or beside this interpreter (a virtualenv that is not activated)."""
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.is_file() else None)


def record(pid: int, seconds: float, out: Path, rate: int = 100) -> subprocess.Popen:
    """Start sampling `pid` for `seconds` into `out` (folded stacks); wait on the returned process."""
    command = [available() or "py-spy", "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
               "--rate", str(rate), "--format", "raw", "--output", str(out), "--nonblocking", "--gil"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def top_functions(folded: Path, limit: int = 25) -> dict:
    """Per function: samples in which it is on the stack (inclusive) and at the top (self), as % of all."""
    inclusive: Counter = Counter()
    own: Counter = Counter()
    total = 0
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [_short(f) for f in stack.split(";")]
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    pct = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {"samples": total,
            "inclusive": [(f, pct(n)) for f, n in inclusive.most_common(limit)],
            "self": [(f, pct(n)) for f, n in own.most_common(limit)]}


def _short(frame: str) -> str:
    """'get_run (api/routes/runs.py:38)' with site-packages paths cut to the package."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    if "site-packages/" in where:
        where = where.split("site-packages/", 1)[1]
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name
