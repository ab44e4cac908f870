"""The cast bank's pure parts: "keep ... for later" in chat, banked looks in the storyboard, and the
plan's picture and speech steps conditioned on each scene's banked character."""
from agent.plan_schema import Plan
from agent.planning.intent import keep_for_later
from agent.recipes.story import compile_plan
from agent.recipes.story_bank import apply_bank, condition_plan, lead_character
from agent.recipes.storyboard import Character, Scene, Storyboard
from agent.settings import StorySettings


def test_keep_for_later_names_who_to_bank():
    assert keep_for_later("keep Mara and Pip for later") == ["Mara", "Pip"]
    assert keep_for_later("a story about a seal. Save the Keeper, Mara and Pip for later!") == ["Keeper", "Mara", "Pip"]
    assert keep_for_later("please keep the cast for later") is True
    assert keep_for_later("a story about a fox who keeps a secret") is False


def _board() -> Storyboard:
    return Storyboard(title="Mara and the Seal", characters=[Character(name="Mara", look="a storybook character"),
                                                               Character(name="the seal", look="a seal")],
                      scenes=[Scene(narration="Mara walks by the sea.", picture="Mara walks by the sea"),
                              Scene(narration="The seal sings to Pip.", picture="The seal sings"),
                              Scene(narration="Pip and Mara wave.", picture="Pip and Mara wave")])


def _entity(name: str, look: str, voice: str | None = None) -> dict:
    return {"id": "0" * 32, "name": name, "look": look, "voice": voice, "reference_sha256": None}


def test_banked_looks_replace_the_rules_looks_and_join_the_cast():
    board = apply_bank(_board(), [_entity("Mara", "an otter in a red scarf"), _entity("Pip", "a grey seal pup")])
    assert [(c.name, c.look) for c in board.characters] == [
        ("Pip", "a grey seal pup"), ("Mara", "an otter in a red scarf"), ("the seal", "a seal")]
    assert "Mara: an otter in a red scarf" in board.image_prompt(board.scenes[1])


def test_each_scene_is_conditioned_on_its_lead_banked_character():
    board = _board()
    bank = {"Mara": {"reference": "a" * 32, "strength": 0.6, "voice": "heart"},
            "Pip": {"reference": "b" * 32, "strength": 0.6, "voice": None}}
    assert [lead_character(s, bank) for s in board.scenes] == ["Mara", "Pip", "Pip"]
    plan = condition_plan(compile_plan(board, StorySettings(), seed=1), board, bank)
    steps = {s.id: s.args for s in plan.steps}
    assert [(steps[f"image-{i}"]["reference"], steps[f"image-{i}"]["strength"]) for i in (1, 2, 3)] == [
        ("a" * 32, 0.6), ("b" * 32, 0.6), ("b" * 32, 0.6)]
    assert steps["speech-1"]["voice"] == "heart" and "voice" not in steps["speech-2"]
    assert "reference" not in str(steps["video"])
    assert isinstance(plan, Plan) and condition_plan(plan, board, {}) is plan
