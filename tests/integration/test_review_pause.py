"""Review mode in one process through the real graph: a brief whose story deliverable asks for review
pauses after planning with that story's board (nothing executed); edits merge by scene number and
respect locks; the approved board is what the plan is recompiled from, the other deliverables left as
they were. And the reviewer's board round-trips to the Storyboard the recipes compile."""
import pytest

from agent import review as graph_review
from agent.recipes.brief import Brief
from agent.recipes.review import BoardError, merge, parse_board, parse_patch, to_storyboard, view
from agent.recipes.storyboard import Character, Scene, Storyboard
from agent.service import review
from agent.service.runs import create_brief_run, execute_run
from memory import repo


def test_a_brief_story_pauses_and_its_plan_is_recompiled_from_the_approved_board(runtime):
    runtime.settings.llm.base_url, runtime.settings.llm.timeout = "http://127.0.0.1:9/v1", 2  # recipes' text
    brief = Brief(goal="open the lighthouse museum", deliverables=[
        {"kind": "image", "width": 64, "height": 64, "steps": 2},
        {"kind": "story", "prompt": "a seal at the lighthouse", "scenes": 2, "review": True}], seed=5)
    run_id = create_brief_run(runtime, brief)
    summary = execute_run(runtime, run_id)
    assert summary["status"] == "awaiting_review" and summary["steps"] == []
    board = review.current(runtime, run_id)
    assert [s.seed for s in board.scenes] == [5 + 200 + 1, 5 + 200 + 2]  # the story deliverable's seeds
    with pytest.raises(review.NotAwaitingReview):
        review.edit(runtime, create_brief_run(runtime, brief), {})  # queued, never paused
    review.edit(runtime, run_id, {"scenes": [{"number": 2, "picture": "a seal under a red umbrella", "locked": True}]})
    with pytest.raises(BoardError) as locked:
        review.edit(runtime, run_id, {"scenes": [{"number": 2, "narration": "Something else happened."}]})
    assert locked.value.conflict and locked.value.field == "scenes.0"
    with runtime.db.session() as s:
        before = {st["id"]: st for st in repo.get_run(s, run_id).plan["steps"]}
    assert review.approve(runtime, run_id) is True and review.approve(runtime, run_id) is False
    plan = {st.id: st for st in graph_review.apply(runtime, run_id, graph_review.approved_board(runtime, run_id)).steps}
    assert plan["story2-image-2"].args["prompt"].startswith("a seal under a red umbrella")
    assert plan["story2-image-1"].args == before["story2-image-1"]["args"]  # untouched scene: same call, cached
    assert plan["image-1"].args == before["image-1"]["args"]  # the other deliverable as it was
    with runtime.db.session() as s:
        boards = repo.get_run(s, run_id).info["brief_text"]["boards"]
    assert boards["1"]["scenes"][1]["locked"] is True


def test_the_review_board_round_trips_and_validates():
    base = Storyboard(title="Pip", characters=[Character(name="Pip", look="a grey seal pup")], setting="a harbour",
                      scenes=[Scene(narration="Pip swims.", picture="a seal swimming"),
                              Scene(narration="Pip sleeps.", picture="a seal asleep", seed=99, locked=True)])
    shown = view(base, seed=10)
    assert [s["seed"] for s in shown["scenes"]] == [11, 99] and shown["cast"][0]["voice"] == "heart"
    again = to_storyboard(parse_board(shown), base)
    assert again.setting == "a harbour" and again.scenes[1].locked and again.scenes[0].seed == 11
    edited = merge(parse_board(shown), parse_patch({"cast": [], "scenes": [{"number": 1, "seed": 7}]}))
    assert edited.cast == [] and edited.scenes[0].seed == 7
    with pytest.raises(BoardError, match="scenes.number"):
        parse_board({**shown, "scenes": list(reversed(shown["scenes"]))})
    with pytest.raises(BoardError, match=r"cast.0.voice: unknown or not installed voice 'robot'"):
        parse_patch({"cast": [{"name": "Pip", "look": "a seal", "voice": "robot"}]})
