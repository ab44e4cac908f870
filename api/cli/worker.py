"""`storyloom worker`: workers without HTTP. They claim runs from the database with leases, so any
number of them (and of `storyloom serve --workers 0`) share one PostgreSQL database."""
from __future__ import annotations

import argparse
import signal
import threading

from agent.narrate.run import discard_uploads
from agent.service.events import TERMINAL
from agent.service.runner import Runner
from agent.webhooks.sender import WebhookSender
from api.cli.common import runtime
from api.cli.render import console
from api.errors import UsageError
from api.views import webhook_body
from memory.server_lock import ServerLock, ServerRunning, process_note


def worker(args: argparse.Namespace) -> int:
    if args.workers is not None and not 1 <= args.workers <= 64:
        raise UsageError(f"--workers {args.workers}: must be 1-64")
    rt = runtime(args.profile)
    count = args.workers or max(rt.settings.server.workers, 1)
    try:
        lock = ServerLock(rt.db).acquire()
    except ServerRunning as exc:
        raise UsageError(str(exc)) from None

    webhooks = WebhookSender(rt.db, rt.settings.webhooks, lambda run_id: webhook_body(rt, run_id))

    def on_event(run_id: str, event: dict) -> None:
        if event.get("type") in TERMINAL:
            discard_uploads(rt, run_id)  # an upload job's folder goes however the job ended
            webhooks.wake()  # the run's webhook (if any) was written with its end: send it now

    runner = Runner(rt, count, on_event)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    waiting = runner.start()
    webhooks.start()  # a deployment of workers only still delivers its webhooks
    console.print(f"Storyloom worker {runner.owner}, profile {rt.profile}, database {rt.db.url}; "
                  f"{waiting} runs waiting")
    console.print(process_note(lock, count, rt.settings.server.lease_s), highlight=False)
    try:
        stop.wait()
    finally:
        runner.stop()
        webhooks.stop()
        lock.release()
    return 0
