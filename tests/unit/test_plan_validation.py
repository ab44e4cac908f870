"""Plan validation beyond the basics: allowed tools per run kind, reference kinds found by walking the
tool's input schema, text values (`$value`), forward and self references, and the step limit."""
import pytest

from agent.plan_schema import (
    ALLOWED_TOOLS,
    MAX_STEPS,
    Plan,
    PlanStep,
    asset_kind_at,
    dependencies,
    placeholder_args,
    resolve_refs,
    validate_plan,
)
from tools.registry import all_tools, get_tool

IMG = {"id": "img", "tool": "generate_image", "args": {"prompt": "a fox"}}
CLIP = {"id": "clip", "tool": "generate_video", "args": {"prompt": "a fox runs", "image": {"$ref": "img.image"}}}
CAP = {"id": "cap", "tool": "caption_video", "args": {"video": {"$ref": "clip.video"}}}


def _plan(*steps) -> Plan:
    return Plan(steps=[PlanStep(**s) for s in steps])


def test_allowed_tools_exist_and_narration_cannot_draw():
    assert set(ALLOWED_TOOLS) == {"story", "brief", "narration", "freeform"}
    assert set().union(*ALLOWED_TOOLS.values()) <= set(all_tools())
    assert "generate_image" not in ALLOWED_TOOLS["narration"] and "clip_score" not in ALLOWED_TOOLS["freeform"]
    errors = validate_plan(_plan(IMG), ALLOWED_TOOLS["narration"])
    assert errors == ["step img: tool 'generate_image' is not allowed for this run"]


def test_an_unknown_tool_names_only_the_allowed_ones():
    [error] = validate_plan(_plan({"id": "x", "tool": "delete_everything"}), {"speak", "transcribe"})
    assert error == "step x: unknown tool 'delete_everything'; use one of: speak, transcribe"


def test_a_reference_to_a_step_of_an_unknown_tool_reports_that_tool_once():
    # An LLM's plan may invent a tool and then use its output: one line for the invented tool, no crash.
    made_up = {"id": "m", "tool": "make_music", "args": {}}
    use = {"id": "say", "tool": "transcribe", "args": {"audio": {"$ref": "m.audio"}}}
    say = {"id": "t", "tool": "speak", "args": {"text": {"$value": "m.text"}}}
    errors = validate_plan(_plan(made_up, use, say))
    assert len(errors) == 1 and errors[0].startswith("step m: unknown tool 'make_music'")


@pytest.mark.parametrize(("tool", "path", "kind"), [
    ("generate_video", ["image"], "image"),
    ("generate_image", ["reference"], "image"),
    ("generate_image", ["prompt"], None),
    ("compose_video", ["shots", 3, "clip"], "video"),  # $defs, items and anyOf on the way
    ("compose_video", ["shots", 0, "narration"], "audio"),
    ("compose_video", ["soundtrack"], "audio"),
    ("compose_video", ["shots", 0, "text"], None),
    ("compose_story", ["scenes", 1, "image"], "image"),
    ("compose_story", ["nowhere", 0], None),
    ("transcribe", ["audio"], "audio"),
])
def test_asset_kinds_are_found_in_the_input_schema(tool, path, kind):
    assert asset_kind_at(get_tool(tool).input_model.model_json_schema(), path) == kind


def test_a_reference_must_point_at_an_output_of_the_right_kind():
    shot = {"id": "v", "tool": "compose_video", "args": {"shots": [{"clip": {"$ref": "img.image"}}]}}
    say = {"id": "say", "tool": "speak", "args": {"text": {"$ref": "img.image"}}}
    errors = validate_plan(_plan(IMG, shot, say))
    assert errors == ["step v: argument `shots.0.clip` needs a video, but 'img.image' is an image",
                      "step say: argument `text` takes no asset, so it cannot hold the reference 'img.image'"]


def test_text_values_can_be_referenced_where_text_goes():
    say = {"id": "say", "tool": "speak", "args": {"text": {"$value": "cap.description"}}}
    assert validate_plan(_plan(IMG, CLIP, CAP, say)) == []
    assert dependencies(PlanStep(**say)) == {"cap"}


def test_text_value_mistakes_are_reported():
    steps = [IMG, CLIP, CAP,
             {"id": "a", "tool": "speak", "args": {"text": {"$value": "cap.caption"}}},
             {"id": "b", "tool": "generate_video", "args": {"prompt": "x", "image": {"$value": "cap.description"}}},
             {"id": "c", "tool": "speak", "args": {"text": {"$ref": "cap.description"}}}]
    text = "\n".join(validate_plan(_plan(*steps)))
    assert "step a: value 'cap.caption': tool caption_video has no text value 'caption' (it has description)" in text
    assert "step b: argument `image` needs an image asset, not the text 'cap.description'" in text
    assert """its text is {"$value": "cap.description"}""" in text


def test_forward_and_self_references_are_cycles_and_refused():
    steps = [{**IMG, "after": ["img"]}, {**CLIP, "args": {"prompt": "x", "image": {"$ref": "clip.video"}}},
             {"id": "early", "tool": "caption_video", "args": {"video": {"$ref": "late.video"}}, "after": ["late"]},
             {"id": "late", "tool": "generate_video", "args": {"prompt": "y"}}]
    errors = validate_plan(_plan(*steps))
    assert "step img: `after` names the step itself" in errors
    assert "step clip: reference 'clip.video' does not point at an earlier step (it names the step itself)" in errors
    assert ("step early: reference 'late.video' does not point at an earlier step (it names a later step; "
            "put the step it uses first)") in errors
    assert "step early: `after` names 'late', a later step; a step may only wait for earlier ones" in errors


def test_the_step_limit_holds_even_for_unchecked_plans():
    steps = [PlanStep(id=f"s{i}", tool="speak", args={"text": "hi"}) for i in range(MAX_STEPS + 1)]
    with pytest.raises(ValueError):
        Plan(steps=steps)
    assert validate_plan(Plan.model_construct(kind="freeform", source="llm", steps=steps)) == [
        f"the plan has {MAX_STEPS + 1} steps; the limit is {MAX_STEPS}"]


def test_values_resolve_like_assets():
    args = {"text": {"$value": "cap.description"}, "shots": [{"clip": {"$ref": "clip.video"}}]}
    resolved = resolve_refs(args, {"clip": {"video": "b" * 32}}, {"cap": {"description": "a fox runs"}})
    assert resolved == {"text": "a fox runs", "shots": [{"clip": "b" * 32}]}
    with pytest.raises(KeyError):
        resolve_refs(args, {"clip": {"video": "b" * 32}})  # values are needed and not given
    assert placeholder_args(args) == {"text": "text from an earlier step", "shots": [{"clip": "0" * 32}]}
