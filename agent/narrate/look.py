"""What an image shows and the words in it, from the profile's real models: the notes alt text is made of.

Offline the captioner is a tiny random model that only exercises the BLIP code path, so it never looks
at a library's picture: `describe_image` does (an ImageNet classifier's hedged sentence, "Probably a
lighthouse.", plus OCR). On the cpu and gpu profiles BLIP (`caption_image`) describes and `ocr_image`
reads the words. Either way the words are the lines read well enough to quote, and how much of the
picture the text boxes cover decides whether it is an image of text, whatever its sidecar says.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.narrate.library import Item
from agent.narrate.steps import call_tool
from agent.narrate.types import ItemResult, NarrationContext
from tools.base import ToolError
from tools.describe_image import QUOTE_CONFIDENCE, text_heavy

_SPECIAL_TOKEN = re.compile(r"\[[a-z]+\d*\]", re.I)  # [unused66], [UNK]: vocabulary slots, not words


@dataclass
class Look:
    """A picture as the models saw it: `subject` (a caption, or the classifier's sentence when `hedged`),
    the quotable `lines` of text in it, and the share of the picture those boxes cover."""

    subject: str = ""
    lines: list[str] = field(default_factory=list)
    text_area: float = 0.0
    hedged: bool = False
    source: str = ""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def text_heavy(self) -> bool:
        return text_heavy(self.lines, self.text_area)


def look(ctx: NarrationContext, item: Item, asset: str, result: ItemResult) -> Look:
    """Run the profile's describer on the image asset; a failing model is a warning, not a failed item."""
    if ctx.rt.models.spec("captioner").real:
        return Look(subject=_caption(ctx, item, asset, result), source="caption_image",
                    **_words(ctx, item, asset, result))
    try:
        values = call_tool(ctx, f"i{item.index}-describe", "describe_image", {"image": asset}).values
    except ToolError as exc:
        result.warnings.append(f"describe_image gave nothing: {exc}")
        return Look(source="describe_image")
    return Look(subject=str(values["subject"]), lines=[str(x) for x in values["quotable"]],
                text_area=float(values["text_area"]), hedged=True, source="describe_image")


def _caption(ctx: NarrationContext, item: Item, asset: str, result: ItemResult) -> str:
    try:
        outcome = call_tool(ctx, f"i{item.index}-caption", "caption_image", {"image": asset})
    except ToolError as exc:
        result.warnings.append(f"captioner gave nothing: {exc}")
        return ""
    return " ".join(_SPECIAL_TOKEN.sub(" ", str(outcome.values.get("caption", ""))).split())


def _words(ctx: NarrationContext, item: Item, asset: str, result: ItemResult) -> dict:
    try:
        values = call_tool(ctx, f"i{item.index}-ocr", "ocr_image", {"image": asset}).values
    except ToolError as exc:
        result.warnings.append(f"no text read: {exc}")
        return {}
    lines = [line["text"] for line in values["lines"] if (line.get("confidence") or 0) >= QUOTE_CONFIDENCE]
    return {"lines": lines, "text_area": float(values["text_area"])}


def quote(lines: list[str], limit: int) -> str:
    """"Text: 'Open daily'" in at most `limit` characters (cut at a word, with an ellipsis); '' for no text."""
    words = " ".join(lines).split()
    if not words:
        return ""
    kept = list(words)
    while len(kept) > 1 and len(f"Text: '{' '.join(kept)}'") > limit:
        kept.pop()
    return f"Text: '{' '.join(kept)}{'…' if len(kept) < len(words) else ''}'"


def quotes_all(alt: str, lines: list[str]) -> bool:
    """Whether `alt` holds every word of `lines` in order (what a reader of the alt text gets)."""
    return " ".join(" ".join(lines).split()).casefold() in " ".join(alt.split()).casefold()


def text_note(lines: list[str]) -> str:
    """The whole text for a long description, its line breaks shown as slashes."""
    return "Text in the image: " + " / ".join(f"'{line}'" for line in lines) + "."
