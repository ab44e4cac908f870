"""What can be measured from an image's pixels without a model: decorative spacers, flat graphics, bar charts.

These are heuristics, and the report says so: a thin strip or a near-uniform picture is probably
decoration; few flat colours with long dark straight lines are probably a chart or diagram; solid
runs of one colour standing on a common baseline are counted as bars. A photo has thousands of
colours and none of these shapes, so it falls through to the captioner.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ANALYSIS_SIDE = 400  # nearest-neighbour downscale keeps solid colours solid
LEVELS = 16  # quantisation steps per channel when counting colours
_NAMES = {"black": (0, 0, 0), "white": (255, 255, 255), "grey": (128, 128, 128), "red": (220, 40, 40),
          "orange": (245, 150, 30), "yellow": (240, 220, 40), "green": (40, 170, 60), "teal": (30, 150, 150),
          "blue": (40, 90, 220), "purple": (140, 60, 180), "pink": (240, 130, 180), "brown": (140, 90, 40)}


@dataclass
class Bar:
    left: int
    right: int
    height: int
    bottom: int  # the row the bar stands on
    colour: str


@dataclass
class Pixels:
    """Measurements of one image; `flat` = share of pixels in its 8 most common (quantised) colours."""

    width: int
    height: int
    std: float
    flat: float
    background: float
    axes: bool
    bars: list[Bar] = field(default_factory=list)


def analyse(image) -> Pixels:
    """Measure a PIL RGB image."""
    from PIL import Image

    small = image.copy()
    small.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.NEAREST)
    rgb = np.asarray(small.convert("RGB"), dtype=np.int32)
    codes = (rgb // LEVELS) @ np.array([LEVELS * LEVELS, LEVELS, 1])
    counts = np.sort(np.bincount(codes.ravel()))[::-1] / codes.size
    background = int(np.bincount(codes.ravel()).argmax())
    dark = rgb.mean(axis=2) < 80
    return Pixels(width=image.width, height=image.height, std=float(rgb.std()), flat=float(counts[:8].sum()),
                  background=float(counts[0]), axes=_has_axes(dark),
                  bars=_bars(rgb, codes, (codes != background) & ~dark))


def _has_axes(dark: np.ndarray) -> bool:
    """A dark row across half the width and a dark column down half the height: an x and a y axis."""
    h, w = dark.shape
    return bool((dark.sum(axis=1) >= 0.5 * w).any() and (dark.sum(axis=0) >= 0.5 * h).any())


def _bars(rgb: np.ndarray, codes: np.ndarray, fill: np.ndarray) -> list[Bar]:
    """Vertical runs of columns filled with one solid colour that stand on a shared baseline."""
    h, w = fill.shape
    tall = fill.sum(axis=0) >= max(2, 0.05 * h)
    bars: list[Bar] = []
    for left, right in _runs(tall):
        if right - left < max(2, 0.01 * w):
            continue
        block = fill[:, left:right]
        rows = np.flatnonzero(block.any(axis=1))
        block_codes = codes[:, left:right][block]
        top_share = np.bincount(block_codes).max() / block_codes.size
        if top_share < 0.8:  # several colours stacked: not one bar
            continue
        mid = (left + right) // 2
        colour = rgb[rows[len(rows) // 2], mid]
        bars.append(Bar(int(left), int(right), int(rows[-1] - rows[0] + 1), int(rows[-1]), colour_name(colour)))
    if len(bars) < 2:
        return []
    bottoms = np.array([b.bottom for b in bars])
    return bars if np.ptp(bottoms) <= 0.03 * h + 1 else []


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def colour_name(rgb) -> str:
    r, g, b = (int(c) for c in rgb)
    return min(_NAMES, key=lambda n: sum((a - c) ** 2 for a, c in zip(_NAMES[n], (r, g, b), strict=True)))


def decorative_reason(p: Pixels) -> str | None:
    """Why the image is probably decoration (a spacer, a rule, a blank), or None."""
    short, long = sorted((p.width, p.height))
    if short <= 8 or (long >= 15 * short and short <= 32):
        return f"a thin strip ({p.width}x{p.height} px): a border, rule or spacer"
    if p.width * p.height <= 24 * 24:
        return f"tiny ({p.width}x{p.height} px)"
    if p.std < 6:
        return "nearly one flat colour"
    return None


def complex_kind(p: Pixels) -> str | None:
    """'bar chart' or 'chart or diagram' when the pixels look like one, else None."""
    if p.bars:
        return "bar chart"
    if p.axes and p.flat >= 0.9:
        return "chart or diagram"
    return None


def chart_summary(p: Pixels) -> str:
    """Sentences about what the pixels show of a chart (bars counted and compared by height)."""
    if not p.bars:
        return "A chart or diagram drawn in a few flat colours" + (" with axes." if p.axes else ".")
    tallest = max(b.height for b in p.bars)
    colours = sorted({b.colour for b in p.bars}, key=[b.colour for b in p.bars].index)
    heights = ", ".join(f"{round(100 * b.height / tallest)}%" for b in p.bars)
    tallest_at = 1 + max(range(len(p.bars)), key=lambda i: p.bars[i].height)
    return (f"Bar chart with {len(p.bars)} vertical bars in {' and '.join(colours)}"
            f"{' on axes' if p.axes else ''}. Bar heights from left to right, as a share of the tallest: "
            f"{heights}; bar {tallest_at} is the tallest.")
