"""Audio description without models: word budgets, fitting order, cue placement in the delivered track,
frame sampling. (Gaps, the mix and the transcript are tested in test_narration.py with their code.)"""
from __future__ import annotations

import numpy as np
import pytest

from agent.narrate.checks import locate, placement_problems
from agent.narrate.describe import budget_words, hold_last, sample_frames
from agent.narrate.fit import LEAD_S, tries
from tools.media.mp4 import encode_mp4
from tools.narration.gaps import Gap


def test_budget_cuts_to_whole_clauses_when_it_can():
    assert budget_words("A red door opens slowly.", 10) == "A red door opens slowly."
    assert budget_words("A man walks in, sits down and reads a letter.", 6) == "A man walks in."
    assert budget_words("Waves roll over grey rocks under clouds.", 3) == "Waves roll over."


def test_fitting_tries_late_then_earlier_then_shorter():
    order = tries("One two three four five six seven eight nine ten.", Gap(3.0, 8.0))
    assert [(round(start, 2), how) for _, start, how in order] == [
        (3.0 + LEAD_S, "natural"), (3.0, "earlier"), (3.0 + LEAD_S, "shortened"), (3.0, "shortened")]
    assert len(order[2][0].split()) < len(order[0][0].split())
    assert [how for *_, how in tries("Rain.", Gap(0.0, 4.0))] == ["natural"]  # no lead at the file's start


def _noise(seconds, rate, seed):
    return np.random.default_rng(seed).normal(0, 0.2, int(seconds * rate)).astype(np.float32)


def test_a_cue_delivered_at_the_wrong_time_is_caught_over_speech():
    rate, speech = 16000, [(5.0, 7.0)]
    track = _noise(10.0, rate, 0) * 0.05  # the ducked programme under everything
    late, right = _noise(1.5, rate, 1), _noise(1.0, rate, 2)
    track[int(4.0 * rate):int(5.5 * rate)] += late  # planned at 3.0 s, delivered a second late
    track[int(8.0 * rate):int(9.0 * rate)] += right
    problems = placement_problems(track, rate, [(3.0, late), (8.0, right)], speech)
    assert problems == ["cue at 3.00 s plays at 4.00-5.50 s in the delivered track, over speech at 5.00-7.00 s"]
    assert locate(track, right, 8.3, rate) == (8.0, pytest.approx(1.0, abs=0.01))
    assert placement_problems(track, rate, [(2.0, _noise(1.0, rate, 3))], speech) == [
        "cue at 2.00 s is not in the delivered description track"]


def test_frames_are_sampled_only_as_far_as_they_really_go(tmp_path):
    frame = np.full((32, 32, 3), 90, np.uint8)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(encode_mp4(32, 32, 4, 16000, lambda w: w.add_frames(frame, 4)))  # 1 s of pictures
    samples, end = sample_frames(clip, 10_000_000.0)  # a header claiming 116 days
    assert end == pytest.approx(1.0, abs=0.05) and [t for t, _ in samples] == [0.0, 0.5]
    assert [t for t, _ in hold_last(samples, 2.0)] == [0.0, 0.5, 1.0, 1.5]
