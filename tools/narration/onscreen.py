"""On-screen text in a described video: which of what `ocr_video` read is read aloud, in which gap, and
how it helps the recogniser hear names.

Audio description reads important on-screen text (titles, signs, lower thirds): here that is every
text read with QUOTE_CONFIDENCE (a misread title misleads more than a missing one), at most
MAX_READ_WORDS of it. Each text is read once, in the first speech gap it overlaps, or in the first gap
after it when that starts within LATE_S of the text leaving the screen; later it would describe a
picture no longer there. The same texts, quoted, are the recogniser's visual context: its prompt and
hotwords, so a name both shown and spoken is spelled as shown.
"""
from __future__ import annotations

from typing import Any

from tools.describe_image import QUOTE_CONFIDENCE
from tools.media.vtt import format_vtt, split_cue

MAX_READ_WORDS = 12
LATE_S = 3.0
MAX_CONTEXT_CHARS = 400  # of the recogniser's 1000-character context; the sidecar's text has the rest


def important(segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The segments worth reading aloud: confidently read, with their text as one line."""
    kept = []
    for seg in segments:
        text = " ".join(str(seg.get("text", "")).split())
        if text and (seg.get("confidence") or 0) >= QUOTE_CONFIDENCE:
            kept.append({"start": float(seg["start"]), "end": float(seg["end"]), "text": text})
    return kept


def spoken_form(text: str) -> str:
    """A title as a sentence reads it: ALL-CAPS words in title case, at most MAX_READ_WORDS words."""
    words = [w.title() if w.isupper() and len(w) > 1 else w for w in text.split()]
    return " ".join(words[:MAX_READ_WORDS]) + ("…" if len(words) > MAX_READ_WORDS else "")


def assign_to_gaps(texts: list[dict[str, Any]], gaps: list[Any]) -> list[list[str]]:
    """For each gap (anything with .start and .end), the texts first read in it, in order of appearance."""
    per_gap: list[list[str]] = [[] for _ in gaps]
    for text in texts:
        for n, gap in enumerate(gaps):
            overlaps = text["start"] < gap.end and gap.start < text["end"]
            just_after = text["end"] <= gap.start <= text["end"] + LATE_S
            if overlaps or just_after:
                if spoken_form(text["text"]) not in per_gap[n]:
                    per_gap[n].append(spoken_form(text["text"]))
                break
    return per_gap


def read_aloud(texts: list[str]) -> str:
    """'On screen: Harbour Lighthouse. Open daily.' ('' for none)."""
    sentences = [t.rstrip(".") + "." for t in texts]
    return f"On screen: {' '.join(sentences)}" if sentences else ""


def visual_context(texts: list[dict[str, Any]]) -> str:
    """The texts seen, quoted, as the recogniser's prompt: 'On screen: "Ada Okonkwo", "Harbour Road".'"""
    seen = list(dict.fromkeys(spoken_form(t["text"]).rstrip("…") for t in texts))
    kept: list[str] = []
    for text in seen:
        if len("On screen: " + ", ".join(f'"{t}"' for t in [*kept, text])) + 1 > MAX_CONTEXT_CHARS:
            break
        kept.append(text)
    return ("On screen: " + ", ".join(f'"{t}"' for t in kept) + ".") if kept else ""


def on_screen_vtt(texts: list[dict[str, Any]]) -> str:
    """The on-screen texts as WebVTT, each for the time it is shown."""
    return format_vtt([cue for t in texts for cue in split_cue(t["start"], t["end"], t["text"])])
