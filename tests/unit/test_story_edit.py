"""Chat edits of a story: which scene a message names, and how the instruction reaches its picture."""
import pytest

from agent.llm import LLMUnavailable
from agent.recipes.edit import SceneEdit, apply_edit, fold_phrase, parse_edit
from agent.recipes.fallback import fallback_storyboard
from agent.words import scene_count
from tests.helpers import ScriptedLLM


@pytest.mark.parametrize("message,scene,instruction", [
    ("make the seal wear a red scarf in scene 2", 2, "make the seal wear a red scarf"),
    ("make scene two at night", 2, "make at night"),
    ("in scene 3 add a rainbow", 3, "add a rainbow"),
    ("In the second scene, the sky is purple", 2, "the sky is purple"),
    ("change the 3rd picture so the boat is red", 3, "change so the boat is red"),
    ("in the last scene add a moon please", 3, "add a moon"),
    ("Scene #1: make it snow.", 1, "make it snow"),
    ("make it snow", None, "make it snow"),
])
def test_scene_numbers_in_digits_words_and_ordinals(message, scene, instruction):
    assert parse_edit(message, scenes=3) == SceneEdit(scene=scene, instruction=instruction)


@pytest.mark.parametrize("message", [
    "a bedtime story about a fox", "tell me another story about the seal in scene 2", "draw a red fox in snow",
    "what is the weather like", "make a 4 second clip of the seal swimming",
])
def test_new_requests_are_not_edits(message):
    assert parse_edit(message, scenes=3) is None


@pytest.mark.parametrize("message,scenes,error", [
    ("make scene 5 blue", 2, "scene 5 does not exist: the story has 2 scenes"),
    ("in the fourth scene add a boat", 3, "scene 4 does not exist: the story has 3 scenes"),
    ("make scene 0 blue", 1, "scene 0 does not exist: the story has 1 scene"),
    ("scene two", 2, "say what to change in scene 2"),
    ("make scene 2 at night", None, "there is no finished story in this session, so scene 2 cannot be changed"),
])
def test_impossible_edits_raise_one_line_errors(message, scenes, error):
    with pytest.raises(ValueError) as caught:
        parse_edit(message, scenes=scenes)
    assert str(caught.value).startswith(error) and "\n" not in str(caught.value)


def test_a_message_without_a_scene_and_no_story_is_a_new_request():
    assert parse_edit("make the seal wear a red scarf", scenes=None) is None


@pytest.mark.parametrize("instruction,phrase", [
    ("make the seal wear a red scarf", "the seal wear a red scarf"), ("make at night", "at night"),
    ("add a rainbow", "with a rainbow"), ("change so the sky is purple", "the sky is purple"),
])
def test_fold_phrase(instruction, phrase):
    assert fold_phrase(instruction) == phrase


def test_only_the_named_scene_changes_and_the_fallback_appends_the_instruction():
    board = fallback_storyboard("a story about a seal", 3)
    edited, notes = apply_edit(board, SceneEdit(2, "make the seal wear a red scarf"), None, seed=0)
    assert edited.scenes[0] == board.scenes[0] and edited.scenes[2] == board.scenes[2]
    assert edited.scenes[1].narration == board.scenes[1].narration
    assert edited.scenes[1].picture == f"{board.scenes[1].picture}, the seal wear a red scarf"
    assert notes == ["scene 2: appended"] and edited.title == board.title


def test_the_llm_rewrite_counts_only_when_it_keeps_the_change():
    board = fallback_storyboard("a story about a seal", 2)
    kept = "A seal in a red scarf on the rocks at the end of a happy day"
    llm = ScriptedLLM({"picture": kept}, {"picture": "A seal on the rocks at the end of a happy day"})
    edited, notes = apply_edit(board, SceneEdit(None, "make the seal wear a red scarf"), llm, seed=0)
    assert edited.scenes[0].picture == kept and notes[0] == "scene 1: llm"
    assert edited.scenes[1].picture.endswith(", the seal wear a red scarf") and notes[1] == "scene 2: appended"
    question = llm.asked[0]["messages"][-1]["content"]
    assert "red scarf" in question and board.scenes[0].picture in question


def test_an_unreachable_llm_still_edits():
    board = fallback_storyboard("a story about a seal", 1)
    edited, _ = apply_edit(board, SceneEdit(1, "add a rainbow"), ScriptedLLM(LLMUnavailable("down")), seed=0)
    assert edited.scenes[0].picture.endswith(", with a rainbow") and len(edited.scenes[0].picture) <= 300


def test_scene_count_from_words():
    assert scene_count("a story about a fox in four scenes") == 4
    assert scene_count("a story, 2 scenes") == 2
    assert scene_count("a story about a fox") == 3
    assert scene_count("a story in 99 parts") == 24
