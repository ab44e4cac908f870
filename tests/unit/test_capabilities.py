"""The capability check on the rules alone (no model): the out-of-scope suite's goals, the issue's own
requests, partial requests, named files, bad input and the debris checker."""
import pytest

from agent.planning.capabilities import UNRECOGNISED, check_capabilities, instructions, named_files
from agent.planning.intent import check_request
from agent.planning.llm_planner import parse_plan, plan_request
from agent.recipes.freeform import freeform_plan
from agent.text_checks import clean_text, debris, repaired
from evals.out_of_scope import GOALS, evaluate_scope, load_scope_suite
from tests.helpers import ScriptedLLM

NOISE = ("I have a video file example.mp4, and I want to extract its audio track, reduce background noise, "
         "and then add a reverb effect.")


def test_the_rules_meet_the_goals_over_the_whole_out_of_scope_suite():
    cases = load_scope_suite()
    assert sum(not c.servable for c in cases) >= 40 and sum(c.servable for c in cases) >= 40
    out = evaluate_scope(cases)  # rules only: anything they cannot read is declined as unrecognised
    assert out["honest_decline_rate"] >= GOALS["honest_decline_rate"]
    assert out["false_decline_rate"] <= GOALS["false_decline_rate"]
    assert out["debris_rate"] == 0 and out["per_case"][0]["reason"]


def test_the_issue_request_is_declined_with_what_is_missing_and_what_can_be_done():
    check = check_capabilities(NOISE, known_files={"example.mp4": "a" * 32})
    assert check.supported is False and check.declined
    assert check.missing == ["noise reduction", "audio effects"]
    assert "no tool for noise reduction or audio effects" in check.reason
    assert "transcribe English speech" in check.reason and check.absent_files == []


def test_a_part_that_needs_the_missing_part_is_not_done_alone():
    check = check_capabilities("Translate the text 'good morning, the museum is open' into French and read it aloud")
    assert (check.supported, check.missing) == (False, ["translation"])


def test_a_partial_request_plans_the_part_it_can_and_names_the_rest():
    check = check_capabilities("draw a castle on a hill, add background music, and read 'welcome home' aloud")
    assert (check.supported, check.missing) == ("partial", ["music"])
    assert check.doable == "draw a castle on a hill. read 'welcome home' aloud."
    assert set(check.can) == {"pictures", "speech"} and "leave out the rest" in check.reason


def test_quoted_text_is_data_not_an_instruction():
    check = check_capabilities("say 'please download the music and translate it' in a calm voice")
    assert (check.supported, check.missing) == (True, [])


def test_named_files_are_asked_for_when_the_session_does_not_have_them():
    request = "I have an audio file example.wav that contains a speech. I'd like it transcribed, save it as out.txt"
    assert named_files(request) == ["example.wav"]
    absent = check_capabilities(request)
    assert absent.supported is True and absent.declined and absent.absent_files == ["example.wav"]
    assert "I don't have example.wav" in absent.reason
    assert not check_capabilities(request, known_files={"Example.WAV": "b" * 32}).declined


def test_an_unreadable_request_is_declined_without_a_model_not_made_into_a_story():
    check = check_capabilities("hello there")
    assert (check.supported, check.missing, check.source) == (False, [UNRECOGNISED], "rules")


@pytest.mark.parametrize("bad", ["", "   ", "<b></b> <i> </i>", "{{}} ### ---", "x" * 8001])
def test_bad_requests_are_refused_in_one_line(bad):
    with pytest.raises(ValueError) as err:
        check_request(bad)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text", [
    "}Here is the final image for this post... {{. Picture-book illustration. Characters: <NAME>: }]}]}2018/09/30",
    "{[marimakecap]{(Mali) home for your next adventure... (Echadhi)}}",
    "*List of images **Generated list of items (",
    "#picture-generator-template#imagename-placeholder/*...",
])
def test_the_issue_debris_is_caught(text):
    assert debris(text)
    assert clean_text(text, "a red fox in snow") in ("a red fox in snow", repaired(text))
    assert not debris(clean_text(text, "a red fox in snow"))


@pytest.mark.parametrize("text", ["A red fox runs through the snow at dawn.", "Pip, 3 years old, swims at 9:30.",
                                  "It's the café's first day; the owner waves."])
def test_plain_sentences_are_clean(text):
    assert debris(text) == [] and clean_text(text, "x") == text


def test_an_llm_plan_with_debris_is_sent_back_and_replaced_by_the_recipe():
    junk = {"steps": [{"id": "i", "tool": "generate_image",
                       "args": {"prompt": "#picture-generator-template#imagename-placeholder/*..."}}]}
    plan, problems = parse_plan(junk, ["generate_image"])
    assert plan is not None and problems == [
        "step i: argument `prompt` has template debris (placeholder, template talk); write plain words"]
    llm = ScriptedLLM(junk, junk, junk)
    result = plan_request(llm, "draw a lighthouse at dusk", kind="freeform")
    assert result.source == "fallback" and len(llm.asked) == 3 and "template debris" in result.fallback_reason
    assert [s.args["prompt"] for s in result.plan.steps] == ["a lighthouse at dusk"]


def test_the_recipe_works_on_given_files_and_never_draws_them():
    photo, talk = "a" * 32, "b" * 32
    described = freeform_plan(instructions("describe holiday.jpg and read the description aloud"),
                              given={"image": photo})
    assert [(s.tool, s.args.get("image")) for s in described.steps] == [("caption_image", photo), ("speak", None)]
    assert described.steps[1].args["text"] == {"$value": "caption-1.caption"}
    heard = freeform_plan(instructions("here is talk.wav, my speech from yesterday"), given={"audio": talk})
    assert [(s.tool, s.args) for s in heard.steps] == [("transcribe", {"audio": talk})]


def test_what_a_story_tells_is_content_not_a_request_for_a_tool():
    story = check_capabilities("a bedtime story about a lighthouse keeper who counts the stars and sings a song")
    assert (story.supported, story.missing, story.can) == (True, [], ["stories"])
    mixed = check_capabilities("tell a short story about a fox. Then translate it into German")
    assert (mixed.supported, mixed.missing) == ("partial", ["translation"])
