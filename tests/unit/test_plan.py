from agent.plan_schema import Plan, PlanStep, dependencies, resolve_refs, validate_plan
from agent.recipes.fallback import fallback_storyboard
from agent.recipes.story import compile_plan
from agent.settings import StorySettings
from tests.helpers import iter_refs

ID = "a" * 32


def _plan(*steps) -> Plan:
    return Plan(steps=[PlanStep(**s) for s in steps])


IMAGE = {"id": "img", "tool": "generate_image", "args": {"prompt": "a fox"}}
SPEECH = {"id": "say", "tool": "speak", "args": {"text": "A fox."}}


def test_refs_and_dependencies():
    step = PlanStep(id="v", tool="compose_story", after=["x"],
                    args={"scenes": [{"image": {"$ref": "img.image"}, "audio": {"$ref": "say.audio"}, "text": "t"}]})
    assert sorted(iter_refs(step.args)) == ["img.image", "say.audio"]
    assert dependencies(step) == {"img", "say", "x"}
    resolved = resolve_refs(step.args, {"img": {"image": ID}, "say": {"audio": "b" * 32}})
    assert resolved["scenes"][0] == {"image": ID, "audio": "b" * 32, "text": "t"}


def test_valid_plan_has_no_errors():
    video = {"id": "v", "tool": "compose_story",
             "args": {"scenes": [{"image": {"$ref": "img.image"}, "audio": {"$ref": "say.audio"}, "text": "A fox."}]}}
    assert validate_plan(_plan(IMAGE, SPEECH, video)) == []


def test_each_kind_of_mistake_is_reported():
    errors = validate_plan(_plan(
        IMAGE,
        {"id": "img", "tool": "speak", "args": {"text": "twice"}},
        {"id": "x", "tool": "paint_house", "args": {}},
        {"id": "y", "tool": "clip_score", "args": {"image": {"$ref": "later.image"}, "text": "t"}},
        {"id": "z", "tool": "clip_score", "args": {"image": {"$ref": "img.video"}, "text": "t"}},
        {"id": "w", "tool": "speak", "args": {"text": ""}, "after": ["nowhere"]},
    ))
    text = "\n".join(errors)
    assert "step img: the id is used twice" in text
    assert "unknown tool 'paint_house'" in text
    assert "'later.image' does not point at an earlier step" in text
    assert "has no output 'video'" in text
    assert "`after` names 'nowhere'" in text
    assert "argument `text`" in text


def test_tools_outside_the_allowed_set_are_refused():
    errors = validate_plan(_plan(IMAGE), allowed_tools={"speak"})
    assert errors == ["step img: tool 'generate_image' is not allowed for this run"]


def test_story_plan_compiles_and_validates():
    board = fallback_storyboard("a story about a fox", 4)
    plan = compile_plan(board, StorySettings(image_size=128), seed=5)
    assert validate_plan(plan) == []
    assert [s.id for s in plan.steps][:2] == ["image-1", "speech-1"] and plan.steps[-1].id == "video"
    assert len(plan.step("video").args["scenes"]) == 4
    assert {plan.step(f"image-{i}").args["seed"] for i in range(1, 5)} == {6, 7, 8, 9}
