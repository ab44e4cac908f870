"""Scene redo and locks without models: the chat phrasing, the changed board, the kept steps."""
import pytest

from agent.plan_schema import Plan, PlanStep
from agent.recipes.redo import SceneLocked, SceneRedo, apply_redo, keep_delivered, kept_steps, parse_redo
from agent.recipes.storyboard import Scene, Storyboard
from agent.service.pins import parse_pins


def _board(locked: int | None = None) -> Storyboard:
    return Storyboard(title="The Fox", scenes=[Scene(narration=f"Scene {n}.", picture=f"picture {n}",
                                                     locked=n == locked) for n in (1, 2, 3)])


@pytest.mark.parametrize(("message", "expected"), [
    ("redo scene 2", SceneRedo(scene=2)),
    ("Redo the second scene with a new seed.", SceneRedo(scene=2)),
    ("please regenerate scene 3 with seed 77", SceneRedo(scene=3, seed=77)),
    ("redo the last scene again", SceneRedo(scene=3)),
    ("redo scene 2 at night", None),  # an edit of its picture, not a redo
    ("in scene 2 add a rainbow", None),
    ("redo everything", None),
])
def test_chat_redo_phrasing(message, expected):
    assert parse_redo(message, scenes=3) == expected


def test_chat_redo_errors_are_one_line():
    with pytest.raises(ValueError, match="^scene 4 does not exist: the story has 3 scenes$"):
        parse_redo("redo scene 4", scenes=3)
    with pytest.raises(ValueError, match="^there is no finished story in this session"):
        parse_redo("redo scene 1", scenes=None)


def test_a_redo_changes_only_its_scene_and_respects_locks():
    board = _board()
    new_seed = apply_redo(board, SceneRedo(scene=2), base_seed=10)
    assert [s.seed for s in new_seed.scenes][0::2] == [11, 13] and new_seed.scenes[1].seed not in (None, 12)
    assert apply_redo(new_seed, SceneRedo(scene=2), base_seed=10).scenes[1].seed != new_seed.scenes[1].seed
    words = apply_redo(board, SceneRedo(scene=1, narration="A new line."), base_seed=10)
    assert words.scenes[0].narration == "A new line." and words.scenes[0].seed == 11  # the seed is kept
    with pytest.raises(ValueError, match="^scene: 4 is out of range; the story has scenes 1 to 3$"):
        apply_redo(board, SceneRedo(scene=4), base_seed=10)
    with pytest.raises(SceneLocked, match="^scene 3 is locked$"):
        apply_redo(_board(locked=3), SceneRedo(scene=3), base_seed=10)


def test_kept_steps_are_the_locked_scenes_and_a_redos_other_scenes():
    info = {"storyboard": {"board": _board(locked=1).model_dump()}}
    assert kept_steps(info) == {"image-1", "speech-1"}
    assert kept_steps({**info, "redo": {"change": {"scene": 2}}}) == {"image-1", "speech-1", "image-3", "speech-3"}
    assert kept_steps({}) == set()
    plan = Plan(kind="story", steps=[PlanStep(id="image-1", tool="generate_image", args={"prompt": "new", "seed": 1}),
                                     PlanStep(id="image-2", tool="generate_image", args={"prompt": "x", "seed": 2})])
    kept = keep_delivered(plan, {"image-1": {"prompt": "old", "seed": 7920}, "image-2": {"prompt": "y"}}, [1])
    assert [s.args for s in kept.steps] == [{"prompt": "old", "seed": 7920}, {"prompt": "x", "seed": 2}]


@pytest.mark.parametrize(("message", "expected"), [
    ("pin the style watercolour, soft morning light", {"seed": 3, "style": "watercolour, soft morning light"}),
    ("Pin the seed 42.", {"seed": 42}),
    ("unpin the seed", {}),
    ("unpin", {}),
    ("pin the fox to the wall", None),
    ("a story about a pin", None),
])
def test_chat_pin_phrasing(message, expected):
    assert parse_pins(message, {"seed": 3}) == expected


def test_chat_pin_errors_are_one_line():
    with pytest.raises(ValueError, match="^seed: 'x' is not a whole number"):
        parse_pins("pin the seed x", {})
    with pytest.raises(ValueError, match="^style: say the style in 1 to 200 characters$"):
        parse_pins("pin the style " + "a" * 201, {})
