"""An honest plain sentence about a photo from two small real models: the ImageNet classifier says what
it probably is, OCR quotes the words in it ("Probably a lighthouse. Text: 'Open daily'").

This is the offline profile's description of real pictures (the tiny random captioner only tests the
BLIP code path). The wording follows the classifier's probability, so a reader hears how sure it is:
SURE and up "A lighthouse.", LIKELY and up "Probably a lighthouse.", below that "Unclear: perhaps a
lighthouse or a beacon." A group of classes can be sure when no single class is ("A cat, perhaps a
tiger cat."). Only words read with QUOTE_CONFIDENCE are quoted; a picture mostly covered by text is
called that rather than guessed at.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import numpy as np

from tools.base import Tool, ToolContext, ToolInput, ToolResult, asset_ref
from tools.engines.classifier import IMAGENET_DIR, imagenet_classes, top_guesses
from tools.media.image import read_image
from tools.media.text_layout import layout_values
from tools.registry import register

SURE, LIKELY = 0.6, 0.3
QUOTE_CONFIDENCE = 0.8  # a misread word in alt text misleads more than a missing one
# A picture is "mostly text" from this share of it covered by text boxes, with at least TEXT_HEAVY_WORDS
# quotable words. OCR boxes hug the ink: a poster whose three lines fill its height measures 0.12, the same
# as a two-word caption drawn large on a photo, which the word count tells apart (both measured).
TEXT_HEAVY, TEXT_HEAVY_WORDS = 0.1, 6
QUOTE_WORDS = 20  # longer text is cut here with an ellipsis (the full text stays in the values)

# Mass nouns and plurals: "Probably espresso.", not "Probably an espresso."
NO_ARTICLE = {"espresso", "red wine", "eggnog", "consomme", "guacamole", "carbonara", "chocolate sauce",
              "dough", "hay", "wool", "velvet", "broccoli", "cauliflower", "corn", "rapeseed", "mashed potato",
              "ice cream", "trifle", "meat loaf", "toilet paper", "chain mail", "face powder", "hair spray",
              "lotion", "sunscreen", "jeans", "pajamas", "sunglasses", "binoculars", "swimming trunks",
              "parallel bars", "hot pot", "paper towel", "coral reef"}
_SOUNDS_LIKE_YOU = re.compile(r"^(uni|use|usu|ur[aio]|eu|ewe|one\b)", re.I)


@lru_cache(maxsize=1)
def class_groups() -> dict[int, str]:
    """Class index -> group word, from tools/assets/imagenet/groups.txt."""
    names = imagenet_classes()
    twice = {n for n, count in Counter(names).items() if count > 1}  # "crane", "maillot": not usable here
    index = {n: i for i, n in enumerate(names) if n not in twice}
    groups: dict[int, str] = {}
    for raw in (IMAGENET_DIR / "groups.txt").read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        word, _, members = (part.strip() for part in raw.partition("="))
        for member in members.split(";"):
            first, _, last = member.partition("..")
            start = index[first.strip()]
            groups.update({i: word for i in range(start, index[last.strip()] + 1 if last else start + 1)})
    return groups


def with_article(noun: str) -> str:
    """"a cat", "an owl", "a unicycle", "espresso" (no article for mass nouns and plurals)."""
    if noun in NO_ARTICLE:
        return noun
    vowel = noun[:1].lower() in "aeiou" and not _SOUNDS_LIKE_YOU.match(noun)
    return f"{'an' if vowel or noun.lower().startswith('hour') else 'a'} {noun}"


def subject_sentence(probabilities: np.ndarray) -> str:
    """What the picture probably shows, worded by how sure the classifier is."""
    best, second = top_guesses(probabilities, 2)
    group = class_groups().get(best.index)
    group_p = float(sum(probabilities[i] for i, g in class_groups().items() if g == group)) if group else 0.0
    if best.probability >= SURE:
        return _capital(f"{with_article(best.label)}.")
    if group_p >= SURE:
        return _capital(f"{with_article(group)}, perhaps {with_article(best.label)}.")
    if best.probability >= LIKELY:
        return f"Probably {with_article(best.label)}."
    if group_p >= LIKELY:
        return f"Probably {with_article(group)}."
    return f"Unclear: perhaps {with_article(best.label)} or {with_article(second.label)}."


def quotable_lines(ocr: dict) -> list[str]:
    """The lines of `ocr_image`-style values read well enough to quote (QUOTE_CONFIDENCE)."""
    return [line["text"] for line in ocr.get("lines", []) if (line.get("confidence") or 0) >= QUOTE_CONFIDENCE]


def text_heavy(lines: list[str], area: float) -> bool:
    """Whether a picture whose quotable `lines` cover `area` of it is mostly text (a poster, a slide)."""
    return area >= TEXT_HEAVY and len(" ".join(lines).split()) >= TEXT_HEAVY_WORDS


def subject_of(probabilities: np.ndarray, ocr: dict) -> str:
    """"Mostly text." for a picture mostly of quotable text the classifier is not sure of, else what the
    classifier says it probably shows."""
    sure = top_guesses(probabilities, 1)[0].probability >= SURE
    if text_heavy(quotable_lines(ocr), ocr.get("text_area", 0.0)) and not sure:
        return "Mostly text."
    return subject_sentence(probabilities)


def plain_description(probabilities: np.ndarray, ocr: dict) -> str:
    """The sentence for one picture from its class probabilities and `ocr_image`-style values."""
    quoted = _quote(" ".join(quotable_lines(ocr)))
    subject = subject_of(probabilities, ocr)
    if quoted and subject == "Mostly text.":
        return f"Mostly text: '{quoted}'"
    return f"{subject} Text: '{quoted}'" if quoted else subject


def _quote(text: str) -> str:
    words = text.split()
    return " ".join(words[:QUOTE_WORDS]) + ("…" if len(words) > QUOTE_WORDS else "")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


class DescribeImageInput(ToolInput):
    image: str = asset_ref("image", "The photo to describe (an image asset id).")


@register
class DescribeImage(Tool):
    """Describe a photo in one plain, hedged sentence from an ImageNet classifier and OCR, quoting its words.

    E.g. "Probably a lighthouse. Text: 'Open daily'". Values: `description`, `subject` (the sentence
    without the words), `quotable` (the lines read well enough to quote), `labels` (top 5 classes with
    probabilities), `text` and `lines` (what OCR read), `text_area`. Offline-capable; no captioning model.
    """

    name = "describe_image"
    input_model = DescribeImageInput
    outputs = {}
    model_role = "classifier"

    def batch_key(self, args: DescribeImageInput) -> tuple:
        return ("imagenet",)

    def run(self, args: DescribeImageInput, ctx: ToolContext) -> ToolResult:
        return self.run_batch([args], ctx)[0]

    def run_batch(self, args_list: list[DescribeImageInput], ctx: ToolContext) -> list[ToolResult]:
        """The classifier sees every image in one batch; OCR reads them one by one."""
        images = [read_image(ctx.asset(a.image, "image").path, f"image {a.image}") for a in args_list]
        with ctx.models.use(self.model_role) as classifier:
            probabilities = classifier.probabilities(images)
        with ctx.models.use("ocr") as reader:
            read = [layout_values(reader.read(img), img.width, img.height) for img in images]
        models = {"classifier": classifier.spec.model_id, "ocr": reader.spec.model_id}
        return [ToolResult(values=_values(row, ocr) | {"models": models}, model_id=classifier.spec.model_id)
                for row, ocr in zip(probabilities, read, strict=True)]


def _values(probabilities: np.ndarray, ocr: dict) -> dict:
    return {"description": plain_description(probabilities, ocr), "subject": subject_of(probabilities, ocr),
            "quotable": quotable_lines(ocr),
            "labels": [g.as_dict() for g in top_guesses(probabilities)],
            "text": ocr["text"], "lines": ocr["lines"], "text_area": ocr["text_area"],
            "confidence": ocr["confidence"]}
