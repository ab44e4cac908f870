"""The rules that ground a storyboard: subjects found in the request, the cast and setting built from
them, the checks every part is held to, and adherence."""
import pytest

from agent.recipes.story import _answer_model, write_storyboard
from agent.recipes.story_cast import cast_of, default_title, focus_of, setting_of
from agent.recipes.story_checks import adherence, contradiction, new_names, scene_problem, title_problem
from agent.recipes.story_subjects import find_subjects
from agent.recipes.storyboard import Character, Scene, Storyboard

DEMO = "a bedtime story about a lighthouse keeper and a seal"


def _roles(request: str) -> list[tuple[str, str]]:
    return [(s.label, s.role) for s in find_subjects(request).items]


@pytest.mark.parametrize("request_, expected", [
    (DEMO, [("the lighthouse keeper", "character"), ("the seal", "character")]),
    ("a red fox looking for a warm place in the snow",
     [("the red fox", "character"), ("the warm place", "thing"), ("the snow", "place")]),
    ("Mara the otter and Pip the puffin find a treasure map",
     [("Mara", "character"), ("Pip", "character"), ("the treasure map", "thing")]),
    ("a fox named Pip who is afraid of the dark", [("Pip", "character"), ("the dark", "place")]),
    ("a spooky story about a lighthouse in a storm", [("the lighthouse", "character"), ("the storm", "place")]),
    ("Dragons in the rain", [("the dragons", "character"), ("the rain", "place")]),
    ("a lost mitten that becomes a home for a mouse",
     [("the lost mitten", "character"), ("the home", "thing"), ("the mouse", "character")]),
    ("a mystery about a detective and a missing painting in a museum",
     [("the detective", "character"), ("the missing painting", "character"), ("the museum", "place")]),
    ("Please write me a gentle bedtime story for a four year old about a small grey elephant called Nia "
     "who lives in a big city zoo, with a happy ending, in four scenes",
     [("Nia", "character"), ("the big city zoo", "place")]),
    ("   ", [("the curious friend", "character")]),
])
def test_subjects_are_found_by_rules(request_, expected):
    assert _roles(request_) == expected


def test_named_characters_keep_their_kind_and_the_cast_its_looks():
    subjects = find_subjects("Mara the otter and Pip the puffin find a treasure map")
    cast = cast_of(subjects)
    assert [(c.name, c.look) for c in cast] == [("Mara", "an otter"), ("Pip", "a puffin")]
    assert cast_of(subjects, known="Pip: a puffin in a blue scarf")[1].look == "a puffin in a blue scarf"
    assert default_title(subjects, "x") == "Mara and Pip"
    assert setting_of(find_subjects(DEMO)) == "the lighthouse"  # a place word inside a subject
    assert setting_of(find_subjects("a penguin")) == ""


def test_every_subject_is_some_scene_s_focus():
    subjects = find_subjects("a grandmother and her grandson baking a cake in a tiny kitchen")
    for total in (1, 2, 3, 5):
        focused = [s.label for i in range(total) for s in focus_of(subjects, i, total)]
        assert set(focused) == {s.label for s in subjects.items}


@pytest.mark.parametrize("title, problem", [
    ("{Lioness}, her skin is black like the sea.", "not plain words"),
    ("Elf,", "not plain words"),
    ("Abeetle", "too short"),
    ("The Brave Little Toaster Goes Home", "names nothing"),
    ("The Keeper and the Seal", ""),
])
def test_junk_titles_are_caught(title, problem):
    found = title_problem(title, find_subjects(DEMO))
    assert (problem in found and found) if problem else found == ""


def test_scenes_must_name_their_focus_keep_names_and_kinds():
    subjects = find_subjects(DEMO)
    keeper, seal = subjects.characters
    board = Storyboard(title="T", characters=cast_of(subjects))
    allowed = {"Mara"}
    fine = Scene(narration="The seal swam to the rocks and barked softly at the moon above.", picture="p")
    assert scene_problem(fine, board, [seal], allowed) == ""
    drifted = Scene(narration="Two young people walked along the shore and talked until dark.", picture="p")
    assert "does not name the seal" in scene_problem(drifted, board, [seal], allowed)
    renamed = Scene(narration="The seal met her friend Zephyr by the rocks and they played all day.", picture="p")
    assert "Zephyr" in scene_problem(renamed, board, [seal], allowed)
    assert new_names("Then Mara smiled. Soon the seal slept.", allowed) == []
    girl = "The seal was a little girl who lived by the sea and loved the light."
    assert contradiction(girl, [keeper, seal]) == "the scene calls the seal a girl"
    assert contradiction("The seal was a happy seal who loved the light.", [seal]) == ""


def test_adherence_counts_the_subjects_the_story_keeps():
    subjects = find_subjects("a red fox looking for a warm place in the snow")
    board = Storyboard(title="The Red Fox", characters=[Character(name="the red fox", look="a red fox")],
                       scenes=[Scene(narration="The fox ran through the snow all morning.", picture="p")])
    kept = adherence(subjects, board)
    assert kept["adherence"] == pytest.approx(2 / 3, abs=0.001) and kept["lost"] == ["the warm place"]
    drifted = Storyboard(title="Abeetle", characters=[Character(name="Elf", look="Zebra")],
                         scenes=[Scene(narration="Eliezer and Eladrai sang.", picture="p")])
    assert adherence(subjects, drifted)["adherence"] == 0.0


def test_without_an_llm_the_storyboard_is_grounded_and_deterministic():
    result = write_storyboard(None, DEMO, 3, seed=1)
    assert result == write_storyboard(None, DEMO, 3, seed=1)
    board = result.storyboard
    assert result.source == "fallback" and board.title == "The Lighthouse Keeper and the Seal"
    assert [c.name for c in board.characters] == ["the lighthouse keeper", "the seal"]
    assert result.adherence["adherence"] == 1.0 and len(board.scenes) == 3


def test_the_narration_schema_fixes_its_first_words():
    schema = _answer_model("The seal", True).model_json_schema()
    assert list(schema["properties"]) == ["title", "narration"]
    assert schema["properties"]["narration"]["pattern"].startswith("^The seal( ")
    assert _answer_model("The seal", True) is _answer_model("The seal", True)
