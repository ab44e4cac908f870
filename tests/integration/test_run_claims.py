"""Runs claimed with leases (issue 17), on SQLite and on PostgreSQL: fair order per key, expired leases
taken over with a higher fencing token, a heartbeat that renews leases and passes cancels on, and a worker
whose lease was taken cannot commit."""
from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from agent.executor import Executor
from agent.plan_schema import Plan, PlanStep
from agent.service.lease_keeper import LeaseKeeper
from agent.service.runner import Runner
from api.auth import create_key
from memory import open_database, repo
from memory.leases import Lease, LeaseLost, holding

NOW = datetime.now(UTC)


def _run(db, key_id: str | None, status: str = "queued") -> str:
    with db.session() as s:
        return repo.create_run(s, kind="brief", request="a harbour", profile="offline", api_key_id=key_id,
                               status=status).id


def _claim(db, owner: str = "w1", now: datetime = NOW, lease_s: float = 15):
    with db.session() as s:
        return repo.claim_next(s, owner=owner, now=now, until=now + timedelta(seconds=lease_s))


@pytest.fixture
def db(db_env):
    from agent.settings import Settings

    database = open_database(Settings().db_url)
    yield database
    database.close()


def test_keys_are_served_in_turn_across_claims(db):
    busy, chat, late = (create_key(db, name)[0] for name in ("batch-client", "chat-user", "late"))
    briefs = [_run(db, busy) for _ in range(3)]
    turn = _run(db, chat)
    assert [_claim(db).run_id for _ in range(2)] == [briefs[0], turn]
    newcomer = _run(db, late)  # a key never served goes first
    assert [_claim(db).run_id for _ in range(3)] == [newcomer, briefs[1], briefs[2]]
    assert _claim(db) is None


def test_command_line_runs_are_never_claimed_and_counts_come_from_the_database(db):
    key = create_key(db, "client")[0]
    _run(db, None, "running")
    waiting = _run(db, key)
    with db.session() as s:
        assert repo.count_waiting(s, now=NOW) == 1
    assert _claim(db).run_id == waiting and _claim(db) is None


def test_an_expired_lease_is_taken_over_with_a_higher_token(db):
    key = create_key(db, "client")[0]
    run_id = _run(db, key)
    first = _claim(db, "w1", lease_s=5)
    assert (first.token, first.resumed) == (1, False)
    assert _claim(db, "w2", now=NOW + timedelta(seconds=4)) is None  # still held
    second = _claim(db, "w2", now=NOW + timedelta(seconds=6))
    assert (second.run_id, second.token, second.resumed) == (run_id, 2, True)
    with db.session() as s:
        assert not repo.renew_lease(s, run_id, first.token, until=NOW + timedelta(seconds=60))
        assert repo.renew_lease(s, run_id, second.token, until=NOW + timedelta(seconds=60))


def test_a_worker_whose_lease_was_taken_mid_step_cannot_commit_the_step(db_runtime):
    db = db_runtime.db
    key = create_key(db, "client")[0]
    run_id = _run(db, key)
    stale = _claim(db, "w1", lease_s=1)
    plan = Plan(steps=[PlanStep(id="picture", tool="generate_image",
                                args={"prompt": "a red fox", "seed": 1, "width": 64, "height": 64})])

    def take_over(event):  # the step has started: another worker claims the run as if w1 were dead
        if event.get("status") == "running":  # (in a thread of its own: w2 does not work under w1's lease)
            with ThreadPoolExecutor(1) as other:
                claim = other.submit(_claim, db, "w2", datetime.now(UTC) + timedelta(seconds=2)).result()
            assert claim.token == stale.token + 1

    stale_worker = Executor(db, db_runtime.store, db_runtime.models, run_id=run_id, emit=take_over, use_cache=False)
    with holding(Lease(run_id, stale.token)), pytest.raises(LeaseLost, match="taken over"):
        stale_worker.run_wave(plan, {})
    with db.session() as s:
        assert repo.list_assets(s, run_id=run_id) == []
        assert repo.get_step(s, run_id, "picture").status == "running"
    # The new holder runs the same step to the end: its commits pass the check.
    fresh = Executor(db, db_runtime.store, db_runtime.models, run_id=run_id, use_cache=False)
    with holding(Lease(run_id, stale.token + 1)):
        [outcome] = fresh.run_wave(plan, {})
    assert outcome.status == "succeeded"
    with db.session() as s:
        assert len(repo.list_assets(s, run_id=run_id)) == 1


def test_workers_skip_a_run_another_worker_is_claiming(pg_migrated_url):
    db = open_database(pg_migrated_url)
    try:
        key = create_key(db, "client")[0]
        first_run, second_run = _run(db, key), _run(db, key)
        with db.session() as holding_session:  # w1's claim, not yet committed, keeps its row locked
            assert repo.claim_next(holding_session, owner="w1", now=NOW, until=NOW + timedelta(seconds=15)).run_id \
                == first_run
            assert _claim(db, "w2").run_id == second_run  # not blocked, and not the same run
    finally:
        db.close()


def test_the_heartbeat_renews_a_held_lease_and_stops_a_run_taken_over_or_cancelled(db):
    key = create_key(db, "client")[0]
    taken, cancelled = _run(db, key), _run(db, key)
    now = datetime.now(UTC)
    keeper = LeaseKeeper(db, lease_s=1, poll_s=0.05)
    first, second = _claim(db, "w1", now, lease_s=1), _claim(db, "w1", now, lease_s=1)
    stops = {c.run_id: keeper.hold(Lease(c.run_id, c.token)) for c in (first, second)}
    keeper.start()
    try:
        deadline = time.monotonic() + 10
        while _expiry(db, taken) <= now + timedelta(seconds=1) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _expiry(db, taken) > now + timedelta(seconds=1), "the lease was not renewed"
        assert not any(stop.is_set() for stop in stops.values())
        assert _claim(db, "w2", now=datetime.now(UTC) + timedelta(seconds=60)).run_id == taken  # w1 looks dead
        with db.session() as s:
            repo.request_cancel(s, cancelled)
        assert stops[taken].wait(2) and stops[cancelled].wait(2)  # both seen within a heartbeat poll or two
    finally:
        keeper.stop()


def _expiry(db, run_id: str) -> datetime:
    with db.session() as s:
        return repo.get_run(s, run_id).lease_expires_at


def test_a_restarted_server_takes_back_at_once_the_runs_of_its_dead_neighbours(db_runtime):
    db = db_runtime.db
    key = create_key(db, "client")[0]
    runner = Runner(db_runtime, workers=0)
    machine = runner.owner.rsplit(":", 2)[0]
    gone = _dead_pid()
    dead_run, live_run = _run(db, key), _run(db, key)
    for run_id, pid in ((dead_run, gone), (live_run, os.getpid())):  # a worker of this machine, dead or alive
        assert _claim(db, f"{machine}:{pid}:x", now=datetime.now(UTC)).run_id == run_id
    runner.start()
    waiting = {dead_run} if db.engine.dialect.name == "postgresql" else {dead_run, live_run}  # SQLite: one process
    assert {c.run_id for c in iter(lambda: _claim(db, "w2", now=datetime.now(UTC)), None)} == waiting


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid
