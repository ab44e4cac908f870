"""The deterministic free-form recipe: a plan from the request's own words, with no LLM.

It is the planner's fallback when the LLM cannot answer or keeps writing invalid plans, so it must
always produce a valid plan. The request is cut into clauses ("draw a red fox in snow", "make a
4 second clip of it running", ...); each clause that names an action becomes one step, wired to the
latest earlier result of the kind it needs:

    draw / paint / picture        -> generate_image
    clip / video / animate        -> generate_video (animating the latest image, if any)
    caption / describe / alt text -> caption_image or caption_video (the latest image or clip)
    aloud / narrate / say / voice -> speak (a quoted text, else the latest caption as a `$value`)
    transcribe / transcript       -> transcribe (the latest speech)
    combine / slideshow / montage -> compose_video (every clip, else every image, with the narration)

"Read the caption aloud" speaks the caption itself: `{"$value": "caption-1.description"}` is resolved
by the executor from the caption step's values, so the voice says what the captioner saw.
A request with no recognisable action becomes one image of the request. Files the request names
that the session holds (`given`: kind -> asset id) are what transcribing and describing work on when
no earlier step made something to work on; a request about a given file never becomes a drawing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.plan_schema import MAX_STEPS, Plan, PlanStep
from agent.words import AMOUNT, number_value

EXAMPLE_REQUEST = ("draw a red fox in snow, make a 4 second clip of it running, caption the clip "
                   "and read the caption aloud")

# Checked in this order, so "read the caption aloud" is speech, not captioning.
_ACTIONS = [
    ("compose", r"combin\w*|compos(?:e|ed)|assembl\w*|montage|slide ?show|put\b.*?\btogether|"
                r"into (?:one|a single) video|edit (?:it|them) into"),
    ("transcribe", r"transcri\w*"),
    ("speak", r"aloud|narrat\w*|voice[- ]?over|voice|speak|say|says|saying|read (?:it|out)|speech|tts"),
    ("caption", r"caption\w*|describe\w*|description|alt[- ]text"),
    ("video", r"clips?|video|animate\w*|animation|film|movie"),
    ("image", r"draw\w*|paint\w*|sketch\w*|illustrat\w*|pictures?|images?|photo\w*|render|poster|portrait|"
              r"logo|watercolou?r"),
]
_ACTION_RES = [(name, re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)) for name, pattern in _ACTIONS]
_SPLIT = re.compile(r"(\s*[,;.]\s*(?:and\s+|then\s+)*|\s+(?:and then|then|and)\s+)", re.IGNORECASE)
_SECONDS = re.compile(rf"\b({AMOUNT})[\s-]*(?:seconds?|secs?|s)\b", re.IGNORECASE)
_MEDIA = r"(?:picture|image|photo|illustration|drawing|painting|portrait|poster|clip|video|animation|film|movie)"
_LEAD = re.compile(
    r"^\s*(?:please\s+)?(?:(?:draw|paint|sketch|illustrate|render|make|create|generate|produce|show|give|"
    r"animate|turn)\s+(?:me\s+|us\s+)?)?(?:(?:a|an|the|one)?\s*(?:\S+[\s-]*(?:seconds?|secs?|s)[\s-]+"
    rf"(?:long\s+)?)?(?:short\s+|little\s+)?{_MEDIA}\s+(?:of\s+|showing\s+|with\s+)?)?",
    re.IGNORECASE,
)
# What is left of a clause that only points back ("from the image", "of it"): use the subject instead.
_ONLY_BACK = re.compile(r"^(?:(?:from|of|using|based on|out of|for)\s+)?(?:it|them|that|this|each|both|the (?:same )?"
                        r"(?:image|picture|photo|drawing|painting|clip|video))?$", re.IGNORECASE)
# "put the picture and the narration together": joined before splitting, so the "and" does not cut it.
_COMPOSE_SPAN = re.compile(r"\b(?:put|combine\w*|assemble\w*|edit)\b[^,;.]*?\b(?:together|into)\b",
                           re.IGNORECASE)
# A quotation: opening quote after a space, closing quote before a space or punctuation ("don't" survives).
_QUOTED = re.compile(r"(?:^|\s)[\"“‘']([^\"“”‘’]{2,2000}?)[\"”’'](?=$|[\s,.;:!?])")
_REFERS = re.compile(r"\b(it|its|them|that|the same|this)\b", re.IGNORECASE)


@dataclass
class _Builder:
    """The steps so far and the latest result of each kind, for wiring the next clause."""

    request: str
    seed: int
    steps: list[PlanStep] = field(default_factory=list)
    latest: dict[str, str] = field(default_factory=dict)  # "image" | "video" | "audio" | "caption" -> step id
    all_of: dict[str, list[str]] = field(default_factory=dict)
    subject: str = ""
    given: dict[str, str] = field(default_factory=dict)  # "image" | "video" | "audio" -> asset id

    def add(self, kind: str, tool: str, args: dict[str, Any], intent: str) -> str:
        count = sum(1 for s in self.steps if s.id.startswith(kind + "-")) + 1
        step_id = f"{kind}-{count}"
        self.steps.append(PlanStep(id=step_id, tool=tool, args=args, intent=intent[:5000]))
        self.latest[kind] = step_id
        self.all_of.setdefault(kind, []).append(step_id)
        return step_id


def freeform_plan(request: str, *, seed: int = 0, source: str = "fallback",
                  given: dict[str, str] | None = None) -> Plan:
    """A valid plan for `request`, built from its words alone (and the files it names, `given`)."""
    build = _Builder(request=request.strip(), seed=seed, given=dict(given or {}))
    for action, clause in clauses(build.request):
        if len(build.steps) >= MAX_STEPS - 1:  # a caption may add a step before speaking it
            break
        _STEPS[action](build, clause)
    if not build.steps and build.given:  # "here is interview.wav": work on the file, never draw it
        (_transcribe if "audio" in build.given else _caption)(build, build.request)
    if not build.steps:
        _image(build, build.request)
    return Plan(kind="freeform", source=source, steps=build.steps)


def clauses(request: str) -> list[tuple[str, str]]:
    """(action, clause) pairs; a clause naming no action belongs to the one before it
    ("draw a fox and a seal" stays one clause)."""
    quotes: list[str] = []

    def hide(match: re.Match) -> str:  # quoted words are said, not split: "say 'good night, owl'"
        quotes.append(match.group(0))
        return f"\x00{len(quotes) - 1}\x00"

    request = _QUOTED.sub(hide, request)
    request = _COMPOSE_SPAN.sub(lambda m: re.sub(r"\s+and\s+", " & ", m.group(0)), request)
    parts = [re.sub(r"\x00(\d+)\x00", lambda m: quotes[int(m.group(1))], p) for p in _SPLIT.split(request)]
    found: list[tuple[str | None, str]] = []
    for index in range(0, len(parts), 2):
        text = parts[index].strip()
        action = action_of(text)
        if found and action is None:
            joiner = parts[index - 1] if index else " "
            found[-1] = (found[-1][0], f"{found[-1][1]}{joiner}{text}".strip())
        elif text:
            found.append((action, text))
    return [(a, c) for a, c in found if a is not None]


def action_of(clause: str) -> str | None:
    return next((name for name, pattern in _ACTION_RES if pattern.search(clause)), None)


def subject_of(clause: str, subject: str = "") -> str:
    """'make a 4 second clip of it running' -> 'a red fox in snow running' (with subject 'a red fox in snow')."""
    text = _LEAD.sub("", clause, count=1).strip(" .,!?;:")
    text = _SECONDS.sub("", text).strip(" .,!?;:") if text else text
    text = re.sub(r"\s+(?:for|lasting)$|\s+into\s.*$", "", text)
    if _ONLY_BACK.match(text):
        return subject
    if subject:
        text = re.sub(r"\b(it|them)\b", subject, text, flags=re.IGNORECASE)
    return " ".join(text.split())


def seconds_of(clause: str) -> float | None:
    match = _SECONDS.search(clause)
    if not match:
        return None
    return min(max(number_value(match.group(1)), 0.5), 10.0)


def _image(build: _Builder, clause: str) -> None:
    prompt = subject_of(clause, build.subject) or build.request
    args: dict[str, Any] = {"prompt": prompt[:2000], "seed": build.seed + len(build.steps)}
    if "image" in build.latest and re.search(r"\b(same|based on|matching|consistent)\b", clause, re.I):
        args["reference"] = {"$ref": f"{build.latest['image']}.image"}
    build.subject = build.subject or prompt
    build.add("image", "generate_image", args, prompt)


def _video(build: _Builder, clause: str) -> None:
    prompt = subject_of(clause, build.subject) or build.subject or build.request
    args: dict[str, Any] = {"prompt": prompt[:2000], "seed": build.seed + len(build.steps)}
    if "image" not in build.latest and re.search(rf"\b{_MEDIA} of\b", clause, re.I) and \
            re.search(r"\b(picture|image|photo|drawing|painting|illustration)\b", clause, re.I):
        _image(build, clause)  # "animate a drawing of a dragon": draw it first, then animate it
        prompt = build.subject
    if "image" in build.latest:  # animate what was drawn, so the clip shows the same thing
        args["image"] = {"$ref": f"{build.latest['image']}.image"}
    if (seconds := seconds_of(clause)) is not None:
        args["seconds"] = seconds
    build.subject = build.subject or prompt
    build.add("video", "generate_video", args, prompt)


def _caption(build: _Builder, clause: str) -> None:
    target = _visual_target(build, clause)
    given = next(((k, build.given[k]) for k in ("video", "image") if k in build.given), None)
    if target is None and given is None:
        return  # nothing to describe yet: the clause is dropped rather than invented
    kind, source = target or given
    value = {"$ref": f"{source}.{kind}"} if target else source
    tool, arg = ("caption_video", "video") if kind == "video" else ("caption_image", "image")
    build.add("caption", tool, {arg: value}, f"describe {build.subject or 'the ' + kind}")


def _speak(build: _Builder, clause: str) -> None:
    text: Any = None
    if quoted := _QUOTED.search(clause):
        text = quoted.group(1).strip()
    elif re.search(r"\b(caption|descri\w*|what happens|what it shows)\b", clause, re.I) or (
            _REFERS.search(clause) and build.steps and build.steps[-1].id == build.latest.get("caption")):
        if "caption" not in build.latest:
            _caption(build, clause)
        if "caption" in build.latest:
            text = _caption_value(build, build.latest["caption"])
    if text is None:
        said = re.sub(r"^(?:say|speak|narrate|read(?: out)?)\s+(?:aloud\s+)?", "", clause.strip(), flags=re.I)
        text = subject_of(said, build.subject) or build.subject or build.request
    intent = text if isinstance(text, str) else "read the caption aloud"
    build.add("audio", "speak", {"text": text[:5000] if isinstance(text, str) else text,
                                 "seed": build.seed}, intent)


def _caption_value(build: _Builder, step_id: str) -> dict[str, str]:
    tool = next(s.tool for s in build.steps if s.id == step_id)
    return {"$value": f"{step_id}.{'description' if tool == 'caption_video' else 'caption'}"}


def _transcribe(build: _Builder, clause: str) -> None:
    if "audio" in build.latest:
        build.add("transcript", "transcribe", {"audio": {"$ref": f"{build.latest['audio']}.audio"}},
                  "transcribe the speech")
    elif "audio" in build.given:
        build.add("transcript", "transcribe", {"audio": build.given["audio"]}, "transcribe the speech")


def _compose(build: _Builder, clause: str) -> None:
    kind = "video" if "video" in build.all_of else "image"
    pictures = build.all_of.get(kind, [])
    if not pictures:
        return
    slot = "clip" if kind == "video" else "image"
    shots: list[dict[str, Any]] = [{slot: {"$ref": f"{p}.{kind}"}} for p in pictures]
    if "audio" in build.latest:
        shots[0]["narration"] = {"$ref": f"{build.latest['audio']}.audio"}
    build.add("compose", "compose_video", {"shots": shots}, build.subject or build.request)


def _visual_target(build: _Builder, clause: str) -> tuple[str, str] | None:
    wants_video = re.search(r"\b(clip|video|film|movie)\b", clause, re.I)
    wants_image = re.search(r"\b(image|picture|photo|drawing|painting)\b", clause, re.I)
    for kind in (["video", "image"] if wants_video or not wants_image else ["image", "video"]):
        if kind in build.latest:
            return kind, build.latest[kind]
    return None


_STEPS = {"image": _image, "video": _video, "caption": _caption, "speak": _speak, "transcribe": _transcribe,
          "compose": _compose}
