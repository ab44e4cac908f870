"""The runner on restart: unfinished API runs are claimed again (resumed from their checkpoint), except
those whose cancel was accepted before the restart, which end cancelled instead of resuming."""
import time
from datetime import UTC, datetime, timedelta

from agent.service import events
from agent.service.runner import Runner
from api.auth import create_key, revoke_key
from memory import repo


def _run(rt, key_id: str, status: str, **info) -> str:
    with rt.db.session() as s:
        run = repo.create_run(s, kind="brief", request="a harbour", profile="offline", api_key_id=key_id)
        repo.update_run(s, run.id, status=status, info=info)
        return run.id


def test_unfinished_runs_are_claimed_again_except_an_accepted_cancel_which_ends(runtime):
    key_id, _ = create_key(runtime.db, "client")
    cancelled = _run(runtime, key_id, "running", cancel_requested=True)
    interrupted = _run(runtime, key_id, "running")
    waiting = _run(runtime, key_id, "queued")
    local = _run(runtime, None, "running")  # a command-line run: not the server's to resume
    runner = Runner(runtime, workers=0)  # no threads: the test takes the runs itself
    assert runner.start() == 3 == runner.queue_depth()
    assert runner.work_once()  # the oldest first: its cancel was accepted before the restart
    with runtime.db.session() as s:
        assert repo.get_run(s, cancelled).status == "cancelled"
        now = datetime.now(UTC)
        claims = [repo.claim_next(s, owner="test", now=now, until=now + timedelta(seconds=15)) for _ in range(3)]
        assert [(c.run_id, c.resumed) for c in claims[:2]] == [(interrupted, True), (waiting, False)]
        assert claims[2] is None and repo.get_run(s, local).status == "running"
    assert events.since(runtime.db, cancelled)[-1]["type"] == "cancelled"


def test_a_queued_run_is_cancelled_at_once(runtime):
    key_id, _ = create_key(runtime.db, "client")
    run_id = _run(runtime, key_id, "queued")
    assert Runner(runtime, workers=0).cancel(run_id) == "cancelled"
    with runtime.db.session() as s:
        run = repo.get_run(s, run_id)
        assert (run.status, run.error, run.lease_expires_at) == ("cancelled", "cancelled before it started", None)


def test_a_cancel_of_a_run_a_worker_holds_is_stored_for_that_worker_and_any_later_one(runtime):
    key_id, _ = create_key(runtime.db, "client")
    run_id = _run(runtime, key_id, "queued")
    with runtime.db.session() as s:  # another process's worker holds it
        now = datetime.now(UTC)
        repo.claim_next(s, owner="elsewhere", now=now, until=now + timedelta(seconds=60))
    runner = Runner(runtime, workers=0)
    assert runner.cancel(run_id) == "cancelling"
    with runtime.db.session() as s:
        assert repo.get_run(s, run_id).info["cancel_requested"] is True


def test_a_cancel_of_a_running_run_nobody_holds_ends_it_at_once(runtime):
    key_id, _ = create_key(runtime.db, "client")
    run_id = _run(runtime, key_id, "running")  # its worker is gone (no lease)
    assert Runner(runtime, workers=0).cancel(run_id) == "cancelled"
    assert events.since(runtime.db, run_id)[-1]["data"] == {"status": "cancelled", "error": "cancelled"}


def test_runs_of_a_revoked_key_do_not_start_even_after_a_restart(runtime):
    key_id, _ = create_key(runtime.db, "leaver")
    waiting, interrupted = _run(runtime, key_id, "queued"), _run(runtime, key_id, "running")
    revoke_key(runtime.db, key_id)
    runner = Runner(runtime, workers=1)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with runtime.db.session() as s:
                runs = [repo.get_run(s, r) for r in (waiting, interrupted)]
                if all(r.finished_at for r in runs):
                    break
            time.sleep(0.05)
    finally:
        runner.stop()
    assert [(r.status, r.error) for r in runs] == [("cancelled", "the API key that started this run was revoked")] * 2
    with runtime.db.session() as s:
        assert not repo.list_steps(s, waiting) and not repo.list_steps(s, interrupted)
    assert [e["type"] for e in events.since(runtime.db, waiting)][-1] == "cancelled"
