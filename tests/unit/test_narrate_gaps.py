"""Audio description without models: gaps between speech, fitting order, the mix, the transcript."""
from __future__ import annotations

import numpy as np
import pytest

from agent.narrate.checks import locate, placement_problems
from agent.narrate.describe import budget_words, hold_last, sample_frames
from agent.narrate.fit import LEAD_S, tries
from tools.media.mp4 import encode_mp4
from tools.narration.admix import integrated_lufs, mix, place
from tools.narration.gaps import Gap, find_gaps, merge_intervals, speech_intervals, vad_intervals
from tools.narration.transcript import dialogue_lines, transcript_html


def test_gaps_are_the_pauses_between_speech_and_the_file_edges():
    used, missed = find_gaps([(0.5, 3.0), (8.0, 10.5)], 14.0, 2.0)
    assert used == [Gap(3.0, 8.0), Gap(10.5, 14.0)]
    assert missed == [Gap(0.0, 0.5)]


def test_overlapping_speech_is_joined_and_clipped_to_the_file():
    used, missed = find_gaps([(2.0, 4.0), (3.5, 6.0), (-1.0, 0.2), (9.0, 12.0)], 10.0, 2.0)
    assert used == [Gap(6.0, 9.0)]
    assert missed == [Gap(0.2, 2.0)]


def test_a_file_without_speech_is_one_gap():
    assert find_gaps([], 5.0, 2.0) == ([Gap(0.0, 5.0)], [])


@pytest.mark.parametrize("duration,minimum", [(0.0, 2.0), (5.0, 0.0)])
def test_bad_gap_arguments_are_refused(duration, minimum):
    with pytest.raises(ValueError, match="must be positive"):
        find_gaps([], duration, minimum)


def test_merge_joins_close_intervals_only_when_asked():
    assert merge_intervals([(1.0, 2.0), (2.1, 3.0)]) == [(1.0, 2.0), (2.1, 3.0)]
    assert merge_intervals([(2.1, 3.0), (1.0, 2.0)], join_s=0.2) == [(1.0, 3.0)]


def test_vad_sets_the_edges_and_words_it_missed_are_added():
    vad = [(0.5, 2.6)]
    words = [{"start": 0.1, "end": 0.9}, {"start": 1.0, "end": 2.9}, {"start": 6.0, "end": 6.4}]
    # whisper's stretched first word does not move VAD's edges; the word at 6 s, unseen by VAD, counts
    assert speech_intervals(vad, words) == [(0.5, 2.6), (6.0, 6.4)]


def test_vad_finds_no_speech_in_a_hum():
    t = np.arange(3 * 16000) / 16000
    assert vad_intervals((0.05 * np.sin(2 * np.pi * 60 * t)).astype(np.float32)) == []
    with pytest.raises(ValueError, match="16000 Hz"):
        vad_intervals(np.zeros(100, np.float32), rate=24000)


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


def test_the_mix_ducks_the_original_by_at_least_10_lu_and_hits_the_target():
    rate = 16000
    t = np.arange(10 * rate) / rate
    original = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    narration = place([(4.0, np.zeros(2 * rate, np.float32))], len(original), rate)  # silent voice: music alone
    out = mix(original, narration, [(4.0, 6.0)], rate, duck_lu=10.0, target_lufs=-23.0)
    assert integrated_lufs(out, rate) == pytest.approx(-23.0, abs=0.5)
    inside, outside = out[int(4.3 * rate):int(5.7 * rate)], out[int(7 * rate):int(9 * rate)]
    assert integrated_lufs(outside, rate) - integrated_lufs(inside, rate) >= 10.0


def test_place_puts_clips_at_their_time_and_keeps_the_length():
    out = place([(0.5, np.ones(4, np.float32)), (0.9, np.ones(4, np.float32))], 10, 10)
    assert out.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]


def test_dialogue_is_split_at_pauses_and_interleaved_with_descriptions_escaped():
    words = [{"word": "Hello", "start": 0.5, "end": 0.9}, {"word": "there.", "start": 1.0, "end": 1.4},
             {"word": "<b>Bye</b>", "start": 8.0, "end": 8.5}]
    lines = dialogue_lines(words, [{"start": 0.5, "end": 8.5, "text": "one joined segment"}])
    assert [(line["start"], line["text"]) for line in lines] == [(0.5, "Hello there."), (8.0, "<b>Bye</b>")]
    page = transcript_html("a&b.mp4", lines, [{"start": 3.0, "text": "A door opens & closes."}])
    assert page.index("Hello there.") < page.index("A door opens &amp; closes.") < page.index("&lt;b&gt;Bye")
    assert "<b>Bye" not in page and "a&amp;b.mp4" in page


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
