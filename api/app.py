"""The HTTP API: FastAPI app with background run workers (`storyloom serve`).

OpenAPI at /openapi.json, interactive docs at /docs. Every object belongs to the API key that made
it; another key gets 404 for it. Runs execute in the server's worker threads (none with `--workers 0`:
then `storyloom worker` processes execute them) and resume from their last checkpoint after a restart
or on another worker.
"""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI

from agent.narrate.library import roots_overlapping
from agent.narrate.run import discard_uploads, sweep_uploads
from agent.runtime import Runtime
from agent.service.events import TERMINAL
from agent.service.runner import Runner
from agent.webhooks.sender import WebhookSender
from api.docs import install_docs
from api.errors import UsageError, install_handlers
from api.limits import RequestGate
from api.metrics import Metrics
from api.notify import EventNotifier
from api.routes import assets, briefs, entities, narrations, ops, review, runs, scenes, session_pins, sessions, studio
from api.streams import StreamSlots
from api.views import webhook_body


def create_app(rt: Runtime) -> FastAPI:
    """The app for one runtime; its workers start with the app and stop with it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.notifier.bind(asyncio.get_running_loop())
        app.state.runner.start()
        await asyncio.to_thread(sweep_uploads, app.state.rt)  # what a crash left between a job's end and clean-up
        app.state.webhooks.start()
        try:
            yield
        finally:
            app.state.runner.stop()
            app.state.webhooks.stop()

    overlapping = roots_overlapping(rt.settings.narration.library_roots, rt.settings.data_dir)
    if overlapping:
        raise UsageError(f"library root {overlapping[0]} overlaps the data folder {rt.settings.data_dir}: "
                         "choose roots that neither hold it nor lie inside it")
    app = FastAPI(title="Storyloom", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Stories, content briefs and accessible descriptions of media, from one request.")
    server = rt.settings.server
    runner = Runner(rt, server.workers)
    metrics, notifier = Metrics(rt, runner), EventNotifier()
    webhooks = WebhookSender(rt.db, rt.settings.webhooks, lambda run_id: webhook_body(rt, run_id))

    def on_event(run_id: str, event: dict) -> None:  # after each event's commit, in the emitting thread
        metrics.observe(run_id, event)  # finished steps feed the duration histogram
        notifier.publish(run_id)  # the run's event streams read it at once
        if event.get("type") in TERMINAL:
            discard_uploads(rt, run_id)  # an upload job's folder goes however the job ended
            webhooks.wake()  # its webhook (if any) was written with the end: send it now, not at the next poll

    runner.on_event = on_event
    app.state.streams = StreamSlots(server.max_streams_per_key, server.max_streams)
    app.state.rt, app.state.runner, app.state.metrics, app.state.notifier = rt, runner, metrics, notifier
    app.state.webhooks = webhooks
    install_handlers(app)
    app.add_middleware(RequestGate, db=rt.db, max_json=server.max_body_bytes, max_upload=server.max_upload_bytes,
                       body_idle_s=server.body_idle_s)
    for module in (sessions, briefs, narrations, runs, review, assets, entities, ops, studio, scenes, session_pins):
        app.include_router(module.router)
    install_docs(app)
    return app
