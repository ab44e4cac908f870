"""What an OCR pass found, laid out: pieces of text joined into lines in reading order, and how much of
the picture text covers. Pure geometry, no model code (used by `ocr_image` and `ocr_video`)."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

SAME_LINE_OVERLAP = 0.5  # share of the shorter piece's height two pieces must share to be on one line
WORD_GAP = 2.5  # pieces further apart than this many line heights stay separate (columns, captions)
# The detector now and then frames a whole photo (a cup, a cat's face) as one "letter": a piece taller
# than this share of the picture is kept only when it reads at least GIANT_MIN_CHARS characters.
GIANT_SHARE, GIANT_MIN_CHARS = 0.5, 4


@dataclass(frozen=True)
class TextBox:
    """One piece the detector found: its text, its four corners (clockwise from top left) and the
    recogniser's confidence (0..1)."""

    text: str
    quad: tuple[tuple[int, int], ...]
    confidence: float

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        xs, ys = [p[0] for p in self.quad], [p[1] for p in self.quad]
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def height(self) -> int:
        return max(1, self.bbox[3] - self.bbox[1])


def clean_text(text: str) -> str:
    """The recogniser's string, composed (NFC) with runs of whitespace made one space; other scripts and
    accents are kept exactly as read."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def plausible(box: TextBox, width: int, height: int) -> bool:
    """False for a giant piece with a few characters: a picture misread as a letter, not a sign."""
    x0, y0, x1, y1 = box.bbox
    giant = (y1 - y0) > GIANT_SHARE * height and (x1 - x0) > GIANT_SHARE * width
    return not giant or len(box.text.replace(" ", "")) >= GIANT_MIN_CHARS


def group_lines(boxes: list[TextBox]) -> list[list[TextBox]]:
    """The pieces grouped into lines (each left to right), lines ordered top to bottom, then left to right.

    Two pieces share a line when they overlap vertically by SAME_LINE_OVERLAP of the shorter one and the
    gap between them is under WORD_GAP line heights, so side-by-side columns stay separate lines.
    """
    lines: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: (b.bbox[1] + b.bbox[3], b.bbox[0])):
        line = next((line for line in lines if _joins(line, box)), None)
        if line is None:
            lines.append([box])
        else:
            line.append(box)
    for line in lines:
        line.sort(key=lambda b: b.bbox[0])
    return sorted(lines, key=lambda line: (_union(line)[1], _union(line)[0]))


def _joins(line: list[TextBox], box: TextBox) -> bool:
    x0, y0, x1, y1 = box.bbox
    for other in line:
        ox0, oy0, ox1, oy1 = other.bbox
        overlap = min(y1, oy1) - max(y0, oy0)
        gap = max(ox0 - x1, x0 - ox1, 0)
        height = min(box.height, other.height)
        if overlap >= SAME_LINE_OVERLAP * height and gap <= WORD_GAP * max(box.height, other.height):
            return True
    return False


def _union(boxes: list[TextBox]) -> tuple[int, int, int, int]:
    corners = [b.bbox for b in boxes]
    return (min(c[0] for c in corners), min(c[1] for c in corners),
            max(c[2] for c in corners), max(c[3] for c in corners))


def weighted_confidence(boxes: list[TextBox]) -> float | None:
    """Mean confidence weighted by characters (a long confident line outweighs a stray letter); None
    when nothing was read."""
    chars = sum(len(b.text) for b in boxes)
    if not chars:
        return None
    return round(sum(b.confidence * len(b.text) for b in boxes) / chars, 4)


def text_area(boxes: list[TextBox], width: int, height: int) -> float:
    """Share of the picture (0..1) covered by the pieces' quadrilaterals (overlaps are rare and counted
    twice, so the sum is capped at 1)."""
    if width <= 0 or height <= 0:
        return 0.0
    total = sum(_polygon_area(b.quad) for b in boxes)
    return round(min(1.0, total / (width * height)), 4)


def _polygon_area(points: tuple[tuple[int, int], ...]) -> float:
    pairs = zip(points, points[1:] + points[:1], strict=True)
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairs)) / 2


def layout_values(boxes: list[TextBox], width: int, height: int) -> dict[str, Any]:
    """The tool values for one picture: `text` (lines joined by newlines: what a `$value` reference
    reads), `lines` with their boxes, the raw `boxes`, `confidence` and `text_area`."""
    lines = group_lines(boxes)
    line_values = [{"text": " ".join(b.text for b in line), "box": list(_union(line)),
                    "confidence": weighted_confidence(line)} for line in lines]
    return {
        "text": "\n".join(line["text"] for line in line_values),
        "lines": line_values,
        "boxes": [{"text": b.text, "quad": [list(p) for p in b.quad], "confidence": round(b.confidence, 4)}
                  for b in boxes],
        "confidence": weighted_confidence(boxes),
        "text_area": text_area(boxes, width, height),
        "width": width,
        "height": height,
    }
