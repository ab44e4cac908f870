"""Honest declines end to end on the offline models: the capability check with the real MiniLM embedder,
a free-form run that ends `declined` without asking the LLM anything, the chat reply that says so, the
session's files, and `storyloom plan --json`."""
import json
import subprocess
import sys
from pathlib import Path

from agent.llm import EmbeddedLLM
from agent.planning.capabilities import check_capabilities, model_embed
from agent.planning.dispatch import plan_run, writes_graphs
from agent.planning.llm_planner import plan_request
from agent.requests import FreeformRequest
from agent.service.chat import create_session, record_reply, session_view, start_turn
from agent.service.runs import create_freeform_run, create_run, execute_run
from evals.out_of_scope import GOALS, evaluate_scope, load_scope_suite
from memory import repo
from tests.helpers import ScriptedLLM

NOISE = ("I have a video file example.mp4, and I want to extract its audio track, reduce background noise, "
         "and then add a reverb effect.")


def test_with_the_embedder_the_suite_meets_its_goals_and_unclear_requests_are_read(models):
    embed = model_embed(models)
    out = evaluate_scope(load_scope_suite(), embed=embed)
    assert out["honest_decline_rate"] >= GOALS["honest_decline_rate"]
    assert out["false_decline_rate"] <= GOALS["false_decline_rate"] and out["debris_rate"] == 0
    cabin = check_capabilities("a cozy cabin in the woods at night", embed=embed)
    assert (cabin.supported, cabin.can, cabin.source) == (True, ["pictures"], "embedding")
    capital = check_capabilities("what is the capital of Peru", embed=embed)
    assert (capital.supported, capital.missing) == (False, ["web search"])


def test_an_unsupported_run_is_declined_with_no_model_time(runtime):
    runtime._llm = llm = ScriptedLLM()  # any question would fail the run: none may be asked
    run_id = create_freeform_run(runtime, FreeformRequest(request=NOISE))
    summary = execute_run(runtime, run_id)
    assert summary["status"] == "declined" and llm.asked == []
    assert summary["capability"]["missing"] == ["noise reduction", "audio effects"]
    assert "no tool for noise reduction or audio effects" in summary["error"]
    assert summary["steps"] == [] and summary["assets"] == []
    manifest = json.loads((Path(summary["output_dir"]) / "manifest.json").read_text())
    assert manifest["status"] == "declined"


def test_the_chat_reply_says_it_in_words(runtime):
    runtime._llm = ScriptedLLM()
    session = create_session(runtime)
    run_id = start_turn(runtime, session, "Please translate 'the museum is open' into French and read it aloud")
    execute_run(runtime, run_id)
    record_reply(runtime, run_id)
    reply = session_view(runtime, session)["messages"][-1]
    assert reply["role"] == "assistant" and reply["run_id"] == run_id
    assert reply["content"].startswith("Storyloom has no tool for translation, so I can't do this.")
    assert "read English text aloud" in reply["content"]


def test_a_file_the_session_holds_is_found_and_one_it_lacks_is_asked_for(runtime):
    session = create_session(runtime)
    run_id = create_run(runtime, kind="narration", request="narrate example.wav", session_id=session)
    with runtime.db.session() as s:
        asset = repo.create_asset(s, run_id=run_id, tool="import", name="input", role="item-1", kind="audio",
                                  mime="audio/wav", sha256="0" * 64, size=1, params={"source": "/up/example.wav"})
        files = repo.session_files(s, session)
    assert files == {"example.wav": asset.id}
    runtime._llm = llm = ScriptedLLM()
    asked = start_turn(runtime, session, "transcribe the speech in interview.wav for me")
    summary = execute_run(runtime, asked)
    assert summary["status"] == "declined" and "I don't have interview.wav" in summary["error"]
    # The file it holds is wired into the plan as it is: no LLM is asked to invent an asset id.
    here = start_turn(runtime, session, "I have an audio file Example.wav with a speech, I'd like it transcribed")
    plan = plan_run(runtime, here, lambda event: None)
    assert [(s.tool, s.args) for s in plan.steps] == [("transcribe", {"audio": asset.id})] and llm.asked == []


def test_cli_plan_json_reports_supported_and_missing(env):
    def plan(*args):
        return subprocess.run([sys.executable, "-m", "api.cli", "plan", *args], env=env, capture_output=True,
                              text=True, timeout=300, cwd=Path(__file__).resolve().parents[2])

    declined = plan("--json", NOISE)
    assert declined.returncode == 0, declined.stderr[-2000:]
    data = json.loads(declined.stdout)
    assert (data["supported"], data["missing"], data["plan"]) == (False, ["noise reduction", "audio effects"], None)
    assert "Instead I can" in data["reason"]
    markup = plan("--json", "<b></b> <i></i>")
    assert markup.returncode == 2 and len(markup.stderr.strip().splitlines()) == 1


def test_the_embedded_model_is_not_asked_for_a_tool_graph(models):
    assert not writes_graphs(EmbeddedLLM(models)) and writes_graphs(ScriptedLLM())
    llm = ScriptedLLM()
    result = plan_request(llm, "draw a lighthouse at dusk and describe the picture", kind="freeform", graphs=False)
    assert (result.source, result.llm_calls, llm.asked) == ("recipe", 0, [])
    assert [s.tool for s in result.plan.steps] == ["generate_image", "caption_image"]
