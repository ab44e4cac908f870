"""A run's LLM answers are its record: a resumed run reads them back instead of asking again (issue 18)."""
from __future__ import annotations

from agent.llm import LLMUnavailable, RecordedLLM, ServerLLM
from agent.settings import LLMSettings
from memory import repo

SCHEMA = {"type": "object"}
TITLE = [{"role": "user", "content": "A title for a story about a seal"}]
SCENE = [{"role": "user", "content": "Scene 1 of a story about a seal"}]


def _llm_assets(rt, run_id) -> list:
    with rt.db.session() as s:
        return [a for a in repo.list_assets(s, run_id=run_id) if a.tool == "llm"]


def test_a_resumed_run_reads_its_answers_back_and_records_nothing_twice(runtime, fake_openai):
    server = ServerLLM(LLMSettings(base_url=fake_openai.base_url, model="test-model", timeout=10))
    with runtime.db.session() as s:
        run_id = repo.create_run(s, kind="story", request="a seal", profile="offline").id
    fake_openai.script({"title": "The Seal"}, {"scene": "A seal on a rock"}, {"scene": "A seal asleep"})
    first = RecordedLLM(server, runtime.db, runtime.store, run_id=run_id, use_cache=False)
    before = [first.json(TITLE, SCHEMA), first.json(SCENE, SCHEMA), first.json(SCENE, SCHEMA)]
    assert before == [{"title": "The Seal"}, {"scene": "A seal on a rock"}, {"scene": "A seal asleep"}]
    roles = sorted(a.role for a in _llm_assets(runtime, run_id))

    # The process restarts: a new recorder asks the same questions in the same order. The script is
    # empty now, so any question that reached the server would fail (it answers 500).
    resumed = RecordedLLM(server, runtime.db, runtime.store, run_id=run_id, use_cache=False)
    after = [resumed.json(TITLE, SCHEMA), resumed.json(SCENE, SCHEMA), resumed.json(SCENE, SCHEMA)]
    assert after == before
    assert sorted(a.role for a in _llm_assets(runtime, run_id)) == roles == ["llm-1", "llm-2", "llm-3"]
    assert len(fake_openai.completions()) == 3

    # A question beyond the record is asked for real, under the next number.
    fake_openai.script({"scene": "The seal swims home"})
    assert resumed.json(SCENE, SCHEMA) == {"scene": "The seal swims home"}
    assert sorted(a.role for a in _llm_assets(runtime, run_id))[-1] == "llm-4"


def test_a_question_the_record_lacks_still_reaches_the_model(runtime, fake_openai):
    server = ServerLLM(LLMSettings(base_url=fake_openai.base_url, model="test-model", timeout=10))
    with runtime.db.session() as s:
        run_id = repo.create_run(s, kind="story", request="a seal", profile="offline").id
    recorder = RecordedLLM(server, runtime.db, runtime.store, run_id=run_id, use_cache=False)
    try:
        recorder.json(TITLE, SCHEMA)  # nothing scripted: the server answers 500
    except LLMUnavailable:
        pass
    else:
        raise AssertionError("an unscripted question must reach the server")
    assert _llm_assets(runtime, run_id) == []  # a transient failure is not remembered
