from agent.recipes.fallback import fallback_storyboard, subject_of
from agent.recipes.story import scene_problem
from agent.recipes.storyboard import Character, Scene, Storyboard


def test_subject_is_taken_from_the_request():
    assert subject_of("a bedtime story about a lighthouse keeper and a seal, 3 scenes") == \
        "a lighthouse keeper and a seal"
    assert subject_of("Write me a short tale of two owls.") == "two owls"
    assert subject_of("dragons in the rain") == "dragons in the rain"
    assert subject_of("   ") == "a curious friend"


def test_fallback_storyboard_has_an_arc_and_is_deterministic():
    board = fallback_storyboard("a story about a fox", 5)
    assert board == fallback_storyboard("a story about a fox", 5)
    assert len(board.scenes) == 5
    assert board.scenes[0].narration.startswith("Once upon a time there was a fox.")
    assert board.scenes[-1].narration.startswith("At last")
    assert len({s.narration for s in board.scenes}) == 5


def test_character_sheet_goes_into_every_image_prompt():
    board = Storyboard(title="T", characters=[Character(name="Mira", look="an old keeper in a yellow coat")])
    prompt = board.image_prompt(Scene(narration="n", picture="A lighthouse at night."))
    assert prompt == ("A lighthouse at night. Picture-book illustration. "
                      "Characters: Mira: an old keeper in a yellow coat.")


def test_botched_scenes_are_detected():
    board = Storyboard(title="T", scenes=[Scene(narration="The seal swam to the rocks and barked at the moon.",
                                                picture="p")])
    echo = Scene(narration="Two or three sentences of narration that continue the story.", picture="p")
    repeat = Scene(narration="The seal swam to the rocks and barked at the moon again.", picture="p")
    fine = Scene(narration="Mira climbed the stairs with a lantern in her hand.", picture="p")
    assert "echoed" in scene_problem(echo, board)
    assert "repeated" in scene_problem(repeat, board)
    gibberish = Scene(narration="marakuemacho - maracumal alállas de la noche sin fin", picture="p")
    assert "not English" in scene_problem(gibberish, board)
    assert scene_problem(fine, board) == ""
