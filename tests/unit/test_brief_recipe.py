"""The brief model (the API's request body) and its compilation into a plan; no models run."""
import pytest
from pydantic import ValidationError

from agent.llm import LLMUnavailable
from agent.plan_schema import ALLOWED_TOOLS, MAX_STEPS, dependencies, validate_plan
from agent.recipes.brief import Brief, compile_brief, default_voiceover
from agent.recipes.brief_text import fit_words, plan_brief, write_brief_text
from agent.settings import StorySettings
from tests.helpers import ScriptedLLM

GOAL = "launch our solar camping lantern"


def _brief(*deliverables, **fields) -> Brief:
    return Brief.model_validate({"goal": GOAL, "audience": "families who camp", "style": "warm dusk light",
                                 "deliverables": list(deliverables), **fields})


def _error(**body) -> str:
    with pytest.raises(ValidationError) as caught:
        Brief.model_validate({"goal": GOAL, **body})
    return str(caught.value)


def test_every_field_of_the_request_body_is_described():
    schema = Brief.model_json_schema()
    models = [schema, *schema["$defs"].values()]
    for model in models:
        for name, field in model["properties"].items():
            assert field.get("description"), f"{model.get('title')}.{name} has no description"
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("body,message", [
    ({"deliverables": []}, "at least 1 item"),
    ({"deliverables": [{"kind": "image"}] * 13}, "at most 12 items"),
    ({"deliverables": [{"kind": "image", "width": 100}]}, "8 px latents), got 100"),
    ({"deliverables": [{"kind": "image", "count": 5}]}, "less than or equal to 4"),
    ({"deliverables": [{"kind": "video", "width": 80}]}, "must be a multiple of 32"),
    ({"deliverables": [{"kind": "video", "seconds": 30}]}, "less than or equal to 10"),
    ({"deliverables": [{"kind": "story", "scenes": 7}]}, "less than or equal to 6"),
    ({"deliverables": [{"kind": "song"}]}, "does not match any of the expected tags"),
    ({"deliverables": [{"kind": "image", "colour": "red"}]}, "Extra inputs are not permitted"),
    ({"deliverables": [{"kind": "narration"}], "goal": "   "}, "the goal is empty"),
    ({"deliverables": [{"kind": "narration"}], "goal": "x" * 1001}, "at most 1000 characters"),
    ({"deliverables": [{"kind": "narration", "text": "y" * 2001}]}, "at most 2000 characters"),
    ({"deliverables": [{"kind": "narration"}, {"kind": "video", "from_image": 0}]},
     "deliverables[1].from_image: 0 is not the position of an image deliverable"),
    ({"deliverables": [{"kind": "caption", "of": 3}]}, "deliverables[0].of: 3 is not the position of an image or"),
    ({"deliverables": [{"kind": "story", "scenes": 6}] * 3}, f"need 39 tool calls; the limit is {MAX_STEPS}"),
])
def test_bad_briefs_are_refused_with_a_message_naming_the_field(body, message):
    assert message in _error(**body)


def test_a_brief_compiles_into_a_valid_plan_linked_by_refs():
    brief = _brief({"kind": "caption", "of": 1}, {"kind": "image", "width": 64, "height": 64, "count": 2, "steps": 2},
                   {"kind": "video", "from_image": 1, "seconds": 1, "width": 64, "height": 64},
                   {"kind": "caption", "of": 2}, {"kind": "narration", "text": "Light for every campsite.",
                                                  "max_seconds": 5}, seed=7)
    plan = compile_brief(brief, StorySettings())
    assert plan.kind == "brief" and plan.source == "recipe"
    assert validate_plan(plan, ALLOWED_TOOLS["brief"]) == []
    steps = {s.id: s for s in plan.steps}
    assert [s.id for s in plan.steps] == ["image-2-1", "image-2-2", "video-3", "caption-1-1", "caption-1-2",
                                          "caption-4", "speech-5"]
    prompt = "launch our solar camping lantern. Style: warm dusk light. For families who camp"
    assert steps["image-2-1"].args == {"prompt": prompt, "seed": 27, "width": 64, "height": 64, "steps": 2}
    assert steps["image-2-2"].args["seed"] == 28
    assert steps["video-3"].args["image"] == {"$ref": "image-2-1.image"} and steps["video-3"].args["prompt"] == prompt
    assert steps["caption-1-2"].args == {"image": {"$ref": "image-2-2.image"}}
    assert steps["caption-4"].tool == "caption_video" and dependencies(steps["caption-4"]) == {"video-3"}
    assert steps["speech-5"].args == {"text": "Light for every campsite.", "seed": 12, "max_seconds": 5}
    assert compile_brief(brief, StorySettings()) == plan  # deterministic


def test_a_story_deliverable_uses_the_story_recipe_with_prefixed_ids():
    brief = _brief({"kind": "image", "prompt": "a lantern on a table"}, {"kind": "story", "scenes": 2})
    plan = compile_brief(brief, StorySettings(image_size=64, image_steps=1))
    ids = [s.id for s in plan.steps]
    assert ids == ["image-1", "story2-image-1", "story2-speech-1", "story2-image-2", "story2-speech-2", "story2-video"]
    video = plan.step("story2-video")
    assert video.args["scenes"][1]["image"] == {"$ref": "story2-image-2.image"}
    assert plan.step("story2-image-1").args["width"] == 64
    # With no storyboard written, the deterministic one tells the story of the goal.
    assert plan.step("story2-speech-1").args["text"].startswith(f"Once upon a time there was {GOAL}")
    assert validate_plan(plan, ALLOWED_TOOLS["brief"]) == []


def test_voiceover_comes_from_the_llm_when_it_answers_well():
    said = "Meet the lantern that charges in the sun. Bright nights, light packs, happy campers everywhere."
    llm = ScriptedLLM({"text": said})
    brief = _brief({"kind": "narration"})
    plan, text = plan_brief(llm, brief, StorySettings(), seed=3)
    assert plan.step("speech-1").args["text"] == said and text.sources == {0: "llm"}
    asked = llm.asked[0]["messages"][-1]["content"]
    assert GOAL in asked and "families who camp" in asked and "warm dusk light" in asked


@pytest.mark.parametrize("answers,note", [
    ([LLMUnavailable("down")], "could not write it"),
    ([{"text": "json json json json json json"}] * 2, "template debris (template talk)"),
    ([{"text": "zxqv plmk trwq bnmz kkkq wwxz"}], "not English prose"),
    ([{"text": "}]{{<NAME>}} 2018/09/30 {[()]}"}] * 2, "template debris"),
])
def test_a_bad_or_missing_voiceover_falls_back_to_the_goal(answers, note):
    text = write_brief_text(ScriptedLLM(*answers), _brief({"kind": "narration"}), seed=0)
    assert text.texts[0] == "Launch our solar camping lantern. Made for families who camp."
    assert text.sources[0] == "fallback" and note in text.notes[0]


def test_a_voiceover_with_template_debris_is_asked_again_then_repaired():
    clean = "Bright nights for every camper. Charge it in the sun and light the whole tent."
    llm = ScriptedLLM({"text": "{{Here is the voice-over}} <NAME>: light"}, {"text": clean})
    text = write_brief_text(llm, _brief({"kind": "narration"}), seed=0)
    assert text.texts[0] == clean and text.sources[0] == "llm" and [a["seed"] for a in llm.asked] == [0, 1]
    messy = "{Bright nights for every camper.} [Charge it in the sun and light the whole tent.]"
    text = write_brief_text(ScriptedLLM({"text": messy}, {"text": messy}), _brief({"kind": "narration"}), seed=0)
    assert text.texts[0] == clean and text.sources[0] == "llm" and "repaired" in text.notes[0]


def test_given_text_is_never_rewritten_and_no_llm_is_asked():
    llm = ScriptedLLM()
    text = write_brief_text(llm, _brief({"kind": "narration", "text": "Hello campers."}), seed=0)
    assert text.texts == {} and text.sources == {0: "given"} and llm.asked == []


def test_written_text_is_cut_to_fit_its_slot():
    long = "One two three four five. Six seven eight nine ten. Eleven twelve thirteen."
    assert fit_words(long, 3) == "One two three four five."  # 7 words fit; whole sentences kept
    assert fit_words(long, None) == long
    assert fit_words("a b c d e f g h i j k l m n o p", 2) == "a b c d."
    assert default_voiceover(Brief(goal="new shoes!", deliverables=[{"kind": "narration"}])) == "New shoes."
