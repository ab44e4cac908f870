"""The server's runner on restart: unfinished API runs are queued again, except those whose cancel was
accepted before the restart, which end cancelled instead of resuming."""
import time

from agent.service import events
from agent.service.runner import Runner
from api.auth import create_key, revoke_key
from memory import repo


def _run(rt, key_id: str, status: str, **info) -> str:
    with rt.db.session() as s:
        run = repo.create_run(s, kind="brief", request="a harbour", profile="offline", api_key_id=key_id)
        repo.update_run(s, run.id, status=status, info=info)
        return run.id


def test_restart_requeues_unfinished_runs_and_honours_an_accepted_cancel(runtime):
    key_id, _ = create_key(runtime.db, "client")
    waiting = _run(runtime, key_id, "queued")
    interrupted = _run(runtime, key_id, "running")
    cancelled = _run(runtime, key_id, "running", cancel_requested=True)
    local = _run(runtime, None, "running")  # a command-line run: not the server's to resume
    runner = Runner(runtime, workers=0)  # no threads: what start() queues stays visible
    assert runner.start() == 3
    assert runner.queue.depth() == 2
    with runtime.db.session() as s:
        statuses = {r: repo.get_run(s, r).status for r in (waiting, interrupted, cancelled, local)}
    assert statuses == {waiting: "queued", interrupted: "running", cancelled: "cancelled", local: "running"}
    assert events.since(runtime.db, cancelled)[-1]["type"] == "cancelled"
    assert [e["type"] for e in events.since(runtime.db, interrupted)] == ["resumed"]


def test_a_cancel_of_a_running_run_is_stored_so_a_restart_still_sees_it(runtime):
    key_id, _ = create_key(runtime.db, "client")
    run_id = _run(runtime, key_id, "running")
    runner = Runner(runtime, workers=0)
    assert runner.cancel(run_id) == "cancelling"
    with runtime.db.session() as s:
        assert repo.get_run(s, run_id).info["cancel_requested"] is True


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
