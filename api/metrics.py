"""Prometheus metrics: runs by status, step durations, model loads, queue depth and busy workers.

Counts that must survive restarts (runs by status) are read from the database at scrape time;
step durations are observed from the runner's events as they happen.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from agent.runtime import Runtime
from agent.service.runner import Runner
from memory import repo
from memory.tables import RUN_STATUSES

STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class Metrics:
    def __init__(self, rt: Runtime, runner: Runner) -> None:
        self.rt, self.runner = rt, runner
        self.registry = CollectorRegistry()
        self.steps = Histogram("storyloom_step_duration_seconds", "Duration of finished steps, by tool and status.",
                               ["tool", "status"], buckets=STEP_BUCKETS, registry=self.registry)
        self.registry.register(self)

    def observe(self, run_id: str, event: dict) -> None:
        """The runner's event hook: finished steps feed the duration histogram."""
        if event.get("type") == "step" and event.get("status") in ("succeeded", "failed"):
            self.steps.labels(event.get("tool", "?"), event["status"]).observe(float(event.get("duration") or 0))

    def collect(self):
        runs = GaugeMetricFamily("storyloom_runs", "Runs in the database, by status.", labels=["status"])
        with self.rt.db.session() as s:
            counts = repo.count_by_status(s)
        for status in RUN_STATUSES:
            runs.add_metric([status], counts.get(status, 0))
        yield runs
        loads = CounterMetricFamily("storyloom_model_loads", "Model loads since the server started, by role.",
                                    labels=["role"])
        for role, count in sorted(self.rt.models.loads.items()):
            loads.add_metric([role], count)
        yield loads
        yield GaugeMetricFamily("storyloom_queue_depth", "Runs waiting for a worker.", value=self.runner.queue_depth())
        yield GaugeMetricFamily("storyloom_runs_executing", "Runs a worker is executing now.",
                                value=self.runner.busy())

    def render(self) -> bytes:
        return generate_latest(self.registry)
