"""Real speech: hibari speaks, whisper tiny.en hears the same words back."""
import itertools

import jiwer

from tests.helpers import Assets
from tools.base import get_tool

SENTENCES = "The lighthouse keeper climbed the stairs. A gray seal waited on the rocks. The lamp shone all night."


def normalise(text: str) -> str:
    """Lower case, no punctuation, single spaces: WER counts words, not commas."""
    return jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                          jiwer.Strip()])(text)


def test_speak_then_transcribe_gets_every_word(tmp_path, models):
    assets = Assets(tmp_path)
    ctx = assets.context(models)
    speak, transcribe = get_tool("speak"), get_tool("transcribe")
    spoken = speak.run(speak.parse({"text": SENTENCES}), ctx)
    audio = assets.keep(spoken)["audio"]
    heard = transcribe.run(transcribe.parse({"audio": audio}), ctx).values["text"]
    assert jiwer.wer(normalise(SENTENCES), normalise(heard)) == 0.0


def test_sentence_timings_cover_the_clip(tmp_path, models):
    speak = get_tool("speak")
    result = speak.run(speak.parse({"text": SENTENCES, "seed": 3}), Assets(tmp_path).context(models))
    segments = result.artifacts[0].params["segments"]
    assert [s["text"] for s in segments] == ["The lighthouse keeper climbed the stairs.",
                                            "A gray seal waited on the rocks.", "The lamp shone all night."]
    assert segments[0]["start"] == 0 and segments[-1]["end"] == round(result.values["duration"], 3)
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(segments))


def test_same_seed_same_audio(tmp_path, models):
    speak, ctx = get_tool("speak"), Assets(tmp_path).context(models)
    first = speak.run(speak.parse({"text": "Hello there.", "seed": 9}), ctx).artifacts[0].data
    again = speak.run(speak.parse({"text": "Hello there.", "seed": 9}), ctx).artifacts[0].data
    assert first == again
