"""Crash windows found by the chaos suite (`python -m evals.chaos`), each reproduced exactly: the process
"dies" at one chosen point (a BaseException raised from a callback the code already takes, so nothing
after that point runs and open transactions roll back, as after SIGKILL), then the work is resumed the
way a restarted server resumes it. Each test asserts the goal: one score per asset and metric, every
finished step announced once, an input imported once, a final status only with its terminal event.
"""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import event

from agent.recipes.brief import Brief
from agent.service import events
from agent.service.chat import create_session, start_turn
from agent.service.runner import Runner
from agent.service.runs import create_brief_run, create_run, execute_run
from api.auth import create_key
from memory import repo
from memory.tables import Message
from tests.fixtures.narrate_media import scene


class Crash(BaseException):
    """The process dies here: no handler catches it, nothing after it runs."""


def _recording(rt, run_id: str, dies_on=lambda event: False):
    """An emit that stores events as the server's runner does, and dies before storing the chosen one."""
    def emit(event: dict) -> None:
        if dies_on(event):
            raise Crash
        events.record(rt.db, run_id, event)

    return emit


def _small_brief(rt) -> str:
    rt.settings.critic.max_rounds = 0
    brief = Brief.model_validate({"goal": "a lighthouse at night", "seed": 3, "deliverables": [
        {"kind": "image", "width": 64, "height": 64, "steps": 2},
        {"kind": "narration", "text": "The lamp turns all night long."}]})
    return create_brief_run(rt, brief)


def test_a_run_resumed_mid_critique_scores_each_asset_once(runtime):
    run_id = _small_brief(runtime)
    with pytest.raises(Crash):  # dies after the first score was committed and announced
        execute_run(runtime, run_id, _recording(runtime, run_id, lambda e: e.get("type") == "score"))
    with runtime.db.session() as s:
        _precondition(repo.list_scores(s, run_id=run_id), "the crash came after a score was stored")
    assert execute_run(runtime, run_id, _recording(runtime, run_id))["status"] == "succeeded"
    with runtime.db.session() as s:
        counts = Counter((sc.asset_id, sc.metric) for sc in repo.list_scores(s, run_id=run_id))
    assert max(counts.values()) == 1, {k: n for k, n in counts.items() if n > 1}


def test_a_step_finished_just_before_a_crash_is_still_announced(runtime):
    run_id = _small_brief(runtime)

    def finished_image(event: dict) -> bool:
        return event.get("type") == "step" and event.get("status") == "succeeded" and event.get("step") == "image-1"

    with pytest.raises(Crash):
        execute_run(runtime, run_id, _recording(runtime, run_id, finished_image))
    with runtime.db.session() as s:
        _precondition(repo.get_step(s, run_id, "image-1").status == "succeeded", "the crash came after the commit")
    execute_run(runtime, run_id, _recording(runtime, run_id))
    announced = [e for e in events.since(runtime.db, run_id) if e["type"] == "step"
                 and e["data"].get("step") == "image-1" and e["data"].get("status") == "succeeded"]
    assert len(announced) == 1


def test_a_narration_resumed_after_a_crash_mid_item_records_its_input_once(runtime, tmp_path):
    library = tmp_path / "upload"
    library.mkdir()
    scene(library / "harbour.png")
    info = {"narration": {"paths": [str(library)], "roots": [str(library)], "uploaded": False}}
    run_id = create_run(runtime, kind="narration", request="narrate harbour.png", info=info)
    checks = 0

    def dies_inside_the_item() -> bool:  # the 1st check is the batch loop's; the 2nd comes after the import
        nonlocal checks
        checks += 1
        if checks == 2:
            raise Crash
        return False

    with pytest.raises(Crash):
        execute_run(runtime, run_id, lambda e: None, dies_inside_the_item)
    _precondition(list(_inputs(runtime, run_id).values()) == [1], "the crash came after the input was stored")
    execute_run(runtime, run_id, lambda e: None, lambda: False)  # what the restarted server does
    assert list(_inputs(runtime, run_id).values()) == [1], _inputs(runtime, run_id)


def _precondition(holds, what: str) -> None:
    """Not an assertion of the goal: a broken set-up must fail the test, not pass as the expected failure."""
    if not holds:
        pytest.fail(f"set-up broken: expected {what}")


def _inputs(rt, run_id: str) -> Counter:
    """Asset rows per input role (`i1-input`: the first item's imported picture)."""
    with rt.db.session() as s:
        return Counter(a.role for a in repo.list_assets(s, run_id=run_id) if a.role.endswith("-input"))


class _DiesBeforeTheTerminalEvent(Runner):
    """The server's runner, dying (its worker thread ends) just before it stores a run's terminal event."""

    def emit(self, run_id: str, event: dict) -> None:
        if event.get("type") in events.TERMINAL:
            self.died.set()
            raise Crash
        super().emit(run_id, event)


def _restart(runtime) -> None:
    """A server started again: its worker takes every run left unfinished (and ends those already decided)."""
    runner = Runner(runtime, workers=0)
    runner.start()
    while runner.work_once():
        pass


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the worker dies on purpose
def test_a_run_finished_just_before_a_crash_gets_its_terminal_event_after_the_restart(runtime):
    key_id, _ = create_key(runtime.db, "client")
    runtime.settings.critic.max_rounds = 0
    brief = Brief.model_validate({"goal": "a quiet harbour", "deliverables": [
        {"kind": "narration", "text": "The harbour is quiet."}]})
    run_id = create_brief_run(runtime, brief, api_key_id=key_id)
    runner = _DiesBeforeTheTerminalEvent(runtime, workers=1)
    runner.died = threading.Event()
    runner.start()
    runner.submit(run_id, key_id)
    _precondition(runner.died.wait(300), "the worker reached the terminal event")
    runner.stop(timeout=1)
    with runtime.db.session() as s:
        run = repo.get_run(s, run_id)
        _precondition(run.info.get("verdict", {}).get("status") == "succeeded", "the run had delivered")
    assert run.status == "running"  # a status is final only together with its terminal event
    _restart(runtime)
    assert [e["type"] for e in events.since(runtime.db, run_id) if e["type"] in events.TERMINAL] == ["succeeded"]
    with runtime.db.session() as s:
        assert repo.get_run(s, run_id).status == "succeeded"


def test_a_restart_gives_a_finished_run_without_its_terminal_event_exactly_one(runtime):
    """A database from before statuses and terminal events were written together may hold such runs."""
    key_id, _ = create_key(runtime.db, "client")
    with runtime.db.session() as s:
        run_id = repo.create_run(s, kind="freeform", request="t", profile="offline", api_key_id=key_id,
                                 status="failed").id
        repo.update_run(s, run_id, error="the model was unavailable")
    for _ in range(2):  # two restarts: the event is stored once
        Runner(runtime, workers=0).start()
    ends = [e for e in events.since(runtime.db, run_id) if e["type"] in events.TERMINAL]
    assert [(e["type"], e["data"]["error"]) for e in ends] == [("failed", "the model was unavailable")]


def test_a_chat_turn_dying_at_its_message_leaves_neither_its_run_nor_its_message(runtime):
    key_id, _ = create_key(runtime.db, "client")
    session = create_session(runtime, api_key_id=key_id)

    def dies(*_args) -> None:
        raise Crash

    event.listen(Message, "before_insert", dies)
    try:
        with pytest.raises(Crash):
            start_turn(runtime, session, "a story about a fox", api_key_id=key_id)
    finally:
        event.remove(Message, "before_insert", dies)
    with runtime.db.session() as s:  # no run the session does not show, and nothing queued for a restart
        assert (repo.list_session_runs(s, session), repo.list_messages(s, session)) == ([], [])
        assert repo.count_in_flight(s, key_id) == 0
    run_id = start_turn(runtime, session, "a story about a fox", api_key_id=key_id)
    with runtime.db.session() as s:
        assert [(m.role, m.run_id) for m in repo.list_messages(s, session)] == [("user", run_id)]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the worker dies on purpose
def test_a_chat_reply_is_written_once_across_a_crash_and_two_restarts(runtime):
    key_id, _ = create_key(runtime.db, "client")
    runtime.settings.critic.max_rounds = 0
    session = create_session(runtime, api_key_id=key_id)
    brief = Brief.model_validate({"goal": "a quiet harbour", "deliverables": [
        {"kind": "narration", "text": "The harbour is quiet."}]})
    run_id = create_brief_run(runtime, brief, api_key_id=key_id, session_id=session, message="a quiet harbour")
    runner = _DiesBeforeTheTerminalEvent(runtime, workers=1)
    runner.died = threading.Event()
    runner.start()
    runner.submit(run_id, key_id)
    _precondition(runner.died.wait(300), "the worker reached the terminal event")
    runner.stop(timeout=1)
    with runtime.db.session() as s:  # the reply commits with the end of the run, which did not happen
        assert [m.role for m in repo.list_messages(s, session)] == ["user"]
    for _ in range(2):
        _restart(runtime)
    with runtime.db.session() as s:
        assert [(m.role, m.run_id) for m in repo.list_messages(s, session)] == [("user", run_id), ("assistant", run_id)]
    assert [e["type"] for e in events.since(runtime.db, run_id) if e["type"] in events.TERMINAL] == ["succeeded"]
