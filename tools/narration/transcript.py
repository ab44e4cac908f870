"""The full-text alternative of a video (WCAG 1.2.3 / 1.2.8): dialogue, descriptions and the text shown on
screen, in time order.

Every piece of text (file name, dialogue, descriptions) is escaped: transcripts and captions are
data from the file, never markup.
"""
from __future__ import annotations

from html import escape

from tools.media.vtt import vtt_timestamp

_STYLE = ("body{font:1.05rem/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}"
          "p{margin:.4rem 0}time{color:#555;font-variant-numeric:tabular-nums;margin-right:.6rem}"
          ".description{font-style:italic}.on-screen{font-family:ui-monospace,monospace}.who{font-weight:600}")


PAUSE_S = 0.8  # a silence this long between words starts a new line of dialogue


def dialogue_lines(words: list[dict], segments: list[dict]) -> list[dict]:
    """Dialogue as {start, text} lines split at pauses in the word timings: whisper may join speech on
    both sides of a long silence into one segment, which would put a description after both halves."""
    if not words:
        return segments
    lines: list[dict] = []
    for word in words:
        if lines and float(word["start"]) - lines[-1]["end"] < PAUSE_S:
            lines[-1]["text"] += " " + str(word["word"]).strip()
            lines[-1]["end"] = float(word["end"])
        else:
            lines.append({"start": float(word["start"]), "end": float(word["end"]), "text": str(word["word"]).strip()})
    return lines


LABELS = {"dialogue": "Dialogue", "on-screen": "On screen", "description": "Description"}


def entries(dialogue: list[dict], descriptions: list[dict],
            on_screen: list[dict] = ()) -> list[tuple[float, str, str]]:
    """(start, kind, text) for every dialogue segment, on-screen text and description, in time order
    (on ties: dialogue, then on-screen text, then the description)."""
    spoken = [(float(s["start"]), "dialogue", str(s["text"]).strip()) for s in dialogue if str(s["text"]).strip()]
    shown = [(float(t["start"]), "on-screen", " ".join(str(t["text"]).split())) for t in on_screen]
    described = [(float(d["start"]), "description", str(d["text"]).strip()) for d in descriptions]
    return sorted(spoken + shown + described, key=lambda e: (e[0], list(LABELS).index(e[1])))


def transcript_html(title: str, dialogue: list[dict], descriptions: list[dict], on_screen: list[dict] = ()) -> str:
    """A self-contained HTML page with the interleaved transcript (`on_screen`: {start, text} texts shown)."""
    rows = []
    for start, kind, text in entries(dialogue, descriptions, on_screen):
        label = LABELS[kind]
        rows.append(f'<p class="{kind}"><time>{vtt_timestamp(start)[:-4]}</time>'
                    f'<span class="who">{label}:</span> {escape(text)}</p>')
    body = "\n".join(rows) or "<p>No dialogue, on-screen text or descriptions.</p>"
    name = escape(title)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>Transcript: {name}</title><style>{_STYLE}</style></head>\n"
            f"<body><main><h1>Transcript: {name}</h1>\n"
            f"<p>Dialogue, text shown on screen and audio description of the video, in time order.</p>\n"
            f"{body}\n</main></body></html>\n")
