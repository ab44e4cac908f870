"""On-screen text in described videos (which text, which gap, the recogniser's context) and the report's
comparison with human audio description."""
from __future__ import annotations

from agent.narrate.report import HUMAN_AD, build_report, render_html
from tools.engines.stt import hotwords
from tools.narration.gaps import Gap
from tools.narration.onscreen import assign_to_gaps, important, read_aloud, spoken_form, visual_context
from tools.narration.transcript import entries


def seg(start, end, text, confidence=0.95):
    return {"start": start, "end": end, "text": text, "confidence": confidence, "lines": [text]}


def test_only_confident_text_is_read_and_each_text_once_in_its_first_gap():
    shown = important([seg(0, 4, "HARBOUR  LIGHTHOUSE"), seg(5, 6, "smudge", 0.6), seg(9, 12, "Open daily"),
                       seg(20, 21, "Gone long before")])
    assert [t["text"] for t in shown] == ["HARBOUR LIGHTHOUSE", "Open daily", "Gone long before"]
    gaps = [Gap(0.0, 3.0), Gap(3.5, 5.0), Gap(13.0, 15.0), Gap(30.0, 33.0)]
    assert assign_to_gaps(shown, gaps) == [["Harbour Lighthouse"], [], ["Open daily"], []]
    assert read_aloud(["Harbour Lighthouse", "Open daily."]) == "On screen: Harbour Lighthouse. Open daily."
    assert read_aloud([]) == ""


def test_long_text_is_cut_and_other_scripts_are_kept():
    assert spoken_form(" ".join(f"w{i}" for i in range(20))).endswith("w11…")
    assert spoken_form("ΔΕΛΤΑ ΦΩΣ 東京") == "Δελτα Φως 東京"  # title case, never transliterated
    assert spoken_form("A LIGHTHOUSE") == "A Lighthouse"


def test_the_shown_names_become_the_recognisers_hotwords():
    context = visual_context([seg(0, 3, "ADA OKONKWO"), seg(4, 6, "Harbour Road 42"), seg(7, 8, "Harbour Road 42")])
    assert context == 'On screen: "Ada Okonkwo", "Harbour Road 42".'
    assert hotwords(context) == "Ada Okonkwo Harbour Road 42"
    assert visual_context([]) == ""
    many = visual_context([seg(i, i + 1, f"Title number {i} of the long list") for i in range(40)])
    assert len(many) <= 400 and many.endswith('".')


def test_the_transcript_interleaves_on_screen_text():
    rows = entries([{"start": 2.0, "text": "Hello."}], [{"start": 0.5, "text": "A door."}],
                   [{"start": 0.5, "text": "EXIT"}])
    assert rows == [(0.5, "on-screen", "EXIT"), (0.5, "description", "A door."), (2.0, "dialogue", "Hello.")]


def test_the_report_sets_cue_length_and_rate_beside_human_describers():
    cues = [{"text": "On screen: Okonkwo.", "duration": 1.0},
            {"text": "A green field under grey sky.", "duration": 2.0}, {"text": "A boat.", "duration": 0.5}]
    items = [{"status": "done", "kind": "video", "data": {"cues": cues}, "path": "v.mp4"},
             {"status": "failed", "kind": "video", "data": {"cues": cues}, "path": "w.mp4"}]
    report = build_report("r1", "offline", items, seconds=1.0)
    assert report["ad_cues"]["ours"] == {"cues": 3, "median_words": 3, "median_seconds": 1.0,
                                         "words_per_second": round(11 / 3.5, 2)}
    assert report["ad_cues"]["TV-AD"] == HUMAN_AD["TV-AD"] == {"median_words": 6, "median_seconds": 1.66,
                                                              "words_per_second": 3.9}
    page = render_html(report)
    assert "beside human describers" in page and "<td>CMD-AD</td><td>8</td><td></td><td>3.7</td>" in page
    assert "beside human" not in render_html(build_report("r2", "offline", items[1:], seconds=1.0))
