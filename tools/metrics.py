"""Pure scoring arithmetic for the critic: word error rate with a documented normalisation, cosines,
and the CLIPScore convention.

No models here (nothing heavier than numpy and jiwer is imported), so these run anywhere and are
tested against jiwer and hand-made vectors directly.

The WER normalisation (`normalise`), applied to the reference and the hypothesis alike, in order:

1. Curly apostrophes (’ ‘ ʼ) become `'`; then everything is lower-cased.
2. Numbers stay as written: "3" and "three" are different words (converting between them needs a full
   number grammar, and a narration script should spell numbers the way the narrator says them).
   Thousands separators inside digits go ("1,000" -> "1000"); decimal points stay ("3.5").
3. Punctuation becomes a space ("sea-green" -> "sea green", "end." -> "end"), except an apostrophe
   inside a word ("don't", "keeper's"); quoting apostrophes go ("'hello'" -> "hello", "keepers'" -> "keepers").
4. British spellings become American (`SPELLING`, with simple inflections: "colours" -> "colors").
   Why: the round trip writes what whisper hears, and whisper tiny.en writes American spelling, so a
   British script ("the grey harbour") would otherwise count words the narrator said correctly as
   errors. Only variants that sound the same are listed; words said differently (aeroplane/airplane)
   are real differences and stay.
5. Runs of whitespace collapse to one space; the ends are stripped.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

SPELLING = {  # British -> American, base forms; `_american` also maps them with common endings
    "grey": "gray", "colour": "color", "harbour": "harbor", "favourite": "favorite", "neighbour": "neighbor",
    "honour": "honor", "humour": "humor", "labour": "labor", "flavour": "flavor", "behaviour": "behavior",
    "armour": "armor", "rumour": "rumor", "parlour": "parlor", "vapour": "vapor", "splendour": "splendor",
    "centre": "center", "theatre": "theater", "metre": "meter", "kilometre": "kilometer", "fibre": "fiber",
    "realise": "realize", "recognise": "recognize", "organise": "organize", "apologise": "apologize",
    "travelled": "traveled", "travelling": "traveling", "traveller": "traveler", "travellers": "travelers",
    "cancelled": "canceled", "jewellery": "jewelry", "plough": "plow", "mould": "mold", "cosy": "cozy",
    "defence": "defense", "offence": "offense", "catalogue": "catalog", "pyjamas": "pajamas", "moustache": "mustache",
}
_ENDINGS = ("s", "es", "d", "ed", "ing", "ings", "er", "ers", "ful", "ish", "ite", "ites", "hood", "hoods", "ly")

_APOSTROPHES = re.compile("[\u2018\u2019\u02bc]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_PUNCTUATION = re.compile(r"(?!(?<=\d)\.(?=\d))[^\w\s']|_")  # a decimal point between digits is kept
_LOOSE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")


def normalise(text: str) -> str:
    """`text` as compared for WER: see the module docstring for each rule and why."""
    text = _APOSTROPHES.sub("'", text).lower()
    text = _THOUSANDS.sub("", text)
    text = _LOOSE_APOSTROPHE.sub(" ", _PUNCTUATION.sub(" ", text))
    return " ".join(_american(word) for word in text.split())


def _american(word: str) -> str:
    """The American spelling of `word` if SPELLING lists it, alone or with one common ending."""
    if word in SPELLING:
        return SPELLING[word]
    for ending in _ENDINGS:
        stem = word[: -len(ending)]
        if word.endswith(ending) and stem in SPELLING:
            return SPELLING[stem] + ending
    return word


@dataclass(frozen=True)
class WordErrors:
    """A WER measurement: the rate, its error counts, and the two normalised texts compared."""

    wer: float
    substitutions: int
    deletions: int
    insertions: int
    hits: int
    reference: str
    hypothesis: str

    def as_dict(self) -> dict:
        return asdict(self)


def word_errors(reference: str, hypothesis: str) -> WordErrors:
    """Normalise both texts, then align them with jiwer: (S + D + I) / words in the reference.

    An empty hypothesis is all deletions (WER 1.0); a reference with no words after normalisation has
    no defined WER and raises ValueError.
    """
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        raise ValueError(f"the reference has no words after normalisation: {reference[:80]!r}")
    import jiwer

    out = jiwer.process_words(ref, hyp)
    return WordErrors(wer=float(out.wer), substitutions=out.substitutions, deletions=out.deletions,
                      insertions=out.insertions, hits=out.hits, reference=ref, hypothesis=hyp)


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of `hypothesis` against `reference`, both `normalise`d (jiwer's alignment)."""
    return word_errors(reference, hypothesis).wer


def cosine(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """cos(a, b) = a.b / (|a| |b|), for vectors normalised or not, in float64 and clipped to [-1, 1] (rounding
    can otherwise give a vector with itself 1.0000000000000002); ValueError for a zero vector."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"cosine of vectors of different lengths ({a.size} and {b.size})")
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norms == 0.0:
        raise ValueError("cosine with a zero vector is undefined")
    return min(1.0, max(-1.0, float(a @ b) / norms))


def cosines_to(reference: np.ndarray, vectors: np.ndarray) -> list[float]:
    """cos(reference, v) for each row v of `vectors`."""
    return [cosine(reference, v) for v in vectors]


def consecutive_cosines(vectors: np.ndarray) -> list[float]:
    """cos(v[i], v[i+1]) for each neighbouring pair of rows (one fewer than there are rows)."""
    return [cosine(a, b) for a, b in zip(vectors[:-1], vectors[1:], strict=True)]


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean (ValueError for no values, rather than numpy's nan and a warning)."""
    if not len(values):
        raise ValueError("mean of no values")
    return float(sum(values) / len(values))


def clip_score_from_cosine(cosine: float) -> float:
    """The torchmetrics CLIPScore convention: 100 * max(cosine, 0)."""
    return 100.0 * max(float(cosine), 0.0)
