"""Speech helpers without models: hotwords from visual context, and fitting a take into a slot."""
import numpy as np
import pytest

from tools.engines.stt import MAX_HOTWORDS, hotwords
from tools.media.audio import duck_gain, trailing_silence
from tools.speak import _Take

RATE = 1000


def test_hotwords_are_the_distinct_names_and_quoted_terms():
    assert hotwords("Captain Oyelaran and Zuzanna on the quay") == "Captain Oyelaran Zuzanna"
    text = 'The ship "Silver Kestrel" took O\'Brien\'s dog to ‘Inishmore’. The crew of NASA saw Silver Kestrel.'
    assert hotwords(text) == "Silver Kestrel Inishmore O'Brien NASA"
    assert hotwords("nothing capitalised here") is None and hotwords(None) is None
    many = " ".join(f"Name{i}" for i in range(40))
    assert hotwords(many).split() == [f"Name{i}" for i in range(MAX_HOTWORDS)]


def take(speech: float, silence: float) -> _Take:
    audio = np.concatenate([0.5 * np.ones(round(speech * RATE)), 0.001 * np.ones(round(silence * RATE))])
    segments = [{"text": "Hi.", "start": 0.0, "end": round(speech + silence, 3)}]
    return _Take(audio.astype(np.float32), segments, 1.1, RATE)


def test_a_take_is_fitted_by_cutting_trailing_silence_only():
    original = take(2.0, 0.4)
    assert trailing_silence(original.audio) == 400
    assert original.fitted(2.5) is original
    fitted = original.fitted(2.25)
    assert fitted.duration == 2.25 and fitted.trimmed == 150 and fitted.segments[-1]["end"] == 2.25
    assert np.all(fitted.audio[:2000] == 0.5)
    assert original.fitted(2.0) is not None and original.fitted(1.99) is None  # speech is never cut


def test_duck_gain_ramps_down_before_and_up_after_the_narration():
    gain_db = 20 * np.log10(duck_gain(0, 5 * RATE, RATE, [(2.0, 3.0)], 12.0))
    assert gain_db[:1800] == pytest.approx(0.0) and gain_db[3200:] == pytest.approx(0.0)
    assert gain_db[2000:3001] == pytest.approx(-12.0)
    assert gain_db[1900] == pytest.approx(-6.0) and gain_db[3100] == pytest.approx(-6.0)
    assert np.all(np.diff(gain_db[1800:2001]) <= 0) and np.all(np.diff(gain_db[3000:3201]) >= 0)
