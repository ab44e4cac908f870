"""The brief recipe: a content brief from another system (goal, audience, style, deliverables)
compiled into one plan.

The models here are the HTTP API's request body (`POST /v1/briefs`), so every field is described and
bounded. Deliverables point at each other by their 0-based position in `deliverables` (a video that
animates image 0, a caption of video 1); the plan turns those into `$ref`s. Steps are laid out kind by
kind (images, then videos, captions, narration, stories), so a reference may point forwards in the
list and still name an earlier step. Step ids carry the deliverable's 1-based number (`image-1`,
`video-2`, `caption-3`, `speech-4`, `story5-image-1`), so no two deliverables clash.

Only the text nobody gave is written by the LLM (a voice-over, a story's storyboard): see
`agent.recipes.brief_text`. `compile_brief` itself is deterministic.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.plan_schema import MAX_STEPS, Plan, PlanStep
from agent.recipes.fallback import fallback_storyboard
from agent.recipes.story import compile_plan
from agent.recipes.storyboard import Storyboard
from agent.requests import Budget
from agent.settings import StorySettings
from tools.base import MAX_SEED, ImageSide, RequestSeed, VideoSide

MAX_DELIVERABLES = 12


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImageSpec(_Spec):
    """A picture, or up to four variations of it (each with its own seed)."""

    kind: Literal["image"] = Field(description="A still picture.")
    prompt: str | None = Field(default=None, min_length=1, max_length=1000,
                           description="What the picture shows; empty = the brief's goal, style and audience.")
    width: ImageSide = Field(default=512, ge=64, le=1024, description="Pixels; a multiple of 8.")
    height: ImageSide = Field(default=512, ge=64, le=1024, description="Pixels; a multiple of 8.")
    count: int = Field(default=1, ge=1, le=4, description="How many variations to make.")
    seed: RequestSeed | None = Field(default=None, description="Fixes the result; empty = the brief's.")
    steps: int | None = Field(default=None, ge=1, le=50, description="Denoising steps; empty = the profile's default.")


class VideoSpec(_Spec):
    """A short clip, from text or animating one of the brief's images."""

    kind: Literal["video"] = Field(description="A short video clip (H.264 MP4).")
    prompt: str | None = Field(default=None, min_length=1, max_length=1000,
                           description="What happens in the clip; empty = the animated image's prompt, or the goal.")
    seconds: float = Field(default=2.0, ge=0.5, le=10, description="Length in seconds.")
    fps: int = Field(default=8, ge=4, le=24, description="Frames per second.")
    from_image: int | None = Field(default=None, ge=0, lt=MAX_DELIVERABLES,
                                   description="0-based position of the image deliverable to animate; empty = none.")
    width: VideoSide = Field(default=256, ge=64, le=768, description="Pixels; a multiple of 32.")
    height: VideoSide = Field(default=256, ge=64, le=768, description="Pixels; a multiple of 32.")
    seed: RequestSeed | None = Field(default=None, description="Fixes the result; empty = the brief's.")
    steps: int | None = Field(default=None, ge=1, le=50, description="Denoising steps; empty = the profile's default.")


class NarrationSpec(_Spec):
    """A voice-over."""

    kind: Literal["narration"] = Field(description="Spoken narration (WAV).")
    text: str | None = Field(default=None, min_length=1, max_length=2000,
                             description="What the narrator says; empty = a voice-over written from the goal.")
    max_seconds: float | None = Field(default=None, gt=0, le=120,
                                      description="The slot it must fit: spoken up to 1.15x faster, else it fails.")


class CaptionSpec(_Spec):
    """A one-sentence description (alt text) of another deliverable."""

    kind: Literal["caption"] = Field(description="A caption of an image or video deliverable.")
    of: int = Field(ge=0, lt=MAX_DELIVERABLES, description="0-based position of the image or video deliverable.")


class StorySpec(_Spec):
    """An illustrated, narrated story: one picture and one narration per scene, and the video."""

    kind: Literal["story"] = Field(description="A short illustrated, narrated story.")
    prompt: str | None = Field(default=None, min_length=1, max_length=1000,
                           description="What the story is about; empty = the brief's goal for its audience.")
    scenes: int = Field(default=3, ge=1, le=6, description="How many scenes.")
    review: bool = Field(default=False, description="Pause after planning until its storyboard is approved.")


Deliverable = Annotated[ImageSpec | VideoSpec | NarrationSpec | CaptionSpec | StorySpec, Field(discriminator="kind")]


class Brief(BaseModel):
    """A content brief: what it is for, who it is for, how it looks, and what to make."""

    model_config = ConfigDict(extra="forbid")

    goal: str = Field(min_length=1, max_length=1000, description="What the content is for, e.g. a product launch.")
    audience: str = Field(default="", max_length=300, description="Who it is for.")
    style: str = Field(default="", max_length=300, description="How it should look and sound.")
    deliverables: list[Deliverable] = Field(min_length=1, max_length=MAX_DELIVERABLES,
                                            description="What to make, in order; others refer to them by position.")
    seed: RequestSeed = Field(default=0, description="Seeds every deliverable that has none of its own.")
    budget: Budget | None = Field(default=None, description="Limits of the run (seconds, model calls, critic rounds).")

    @field_validator("goal")
    @classmethod
    def _goal_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the goal is empty; say what the content is for")
        return value.strip()

    @model_validator(mode="after")
    def _references_and_size(self) -> Brief:
        for index, item in enumerate(self.deliverables):
            if isinstance(item, VideoSpec) and item.from_image is not None:
                self._check_ref(index, "from_image", item.from_image, ("image",))
            if isinstance(item, CaptionSpec):
                self._check_ref(index, "of", item.of, ("image", "video"))
        steps = sum(step_count(d, self.deliverables) for d in self.deliverables)
        if steps > MAX_STEPS:
            raise ValueError(f"the deliverables need {steps} tool calls; the limit is {MAX_STEPS} "
                             "(fewer images, variations or scenes)")
        return self

    def _check_ref(self, index: int, name: str, target: int, kinds: tuple[str, ...]) -> None:
        wanted = " or ".join(kinds)
        if target >= len(self.deliverables) or self.deliverables[target].kind not in kinds:
            raise ValueError(f"deliverables[{index}].{name}: {target} is not the position of an {wanted} deliverable")

    def subject(self) -> str:
        """The default picture prompt: the goal, then the style and the audience."""
        text = self.goal.rstrip(". ")
        if self.style.strip():
            text += f". Style: {self.style.strip().rstrip('.')}"
        if self.audience.strip():
            text += f". For {self.audience.strip().rstrip('.')}"
        return text[:2000]


def step_count(item: Any, deliverables: list[Any]) -> int:
    """How many tool calls one deliverable compiles into."""
    if isinstance(item, ImageSpec):
        return item.count
    if isinstance(item, CaptionSpec):
        target = deliverables[item.of]
        return target.count if isinstance(target, ImageSpec) else 1
    if isinstance(item, StorySpec):
        return 2 * item.scenes + 1
    return 1


def image_ids(number: int, spec: ImageSpec) -> list[str]:
    """Step ids of an image deliverable (1-based `number`): `image-1`, or `image-1-1`... for variations."""
    return [f"image-{number}"] if spec.count == 1 else [f"image-{number}-{k}" for k in range(1, spec.count + 1)]


def compile_brief(brief: Brief, story: StorySettings, *, seed: int | None = None,
                  texts: dict[int, str] | None = None, boards: dict[int, Storyboard] | None = None) -> Plan:
    """The brief's plan. `texts` (narration position -> voice-over) and `boards` (story position ->
    storyboard) are what the LLM wrote; anything missing gets its deterministic default."""
    seed = brief.seed if seed is None else seed
    texts, boards = texts or {}, boards or {}
    items = list(enumerate(brief.deliverables))
    steps: list[PlanStep] = []
    for index, item in items:
        if isinstance(item, ImageSpec):
            steps += _image_steps(brief, index, item, seed)
    for index, item in items:
        if isinstance(item, VideoSpec):
            steps.append(_video_step(brief, index, item, seed))
    for index, item in items:
        if isinstance(item, CaptionSpec):
            steps += _caption_steps(brief, index, item)
    for index, item in items:
        if isinstance(item, NarrationSpec):
            steps.append(_speech_step(index, item, texts.get(index) or default_voiceover(brief), seed))
    for index, item in items:
        if isinstance(item, StorySpec):
            board = boards.get(index) or fallback_storyboard(story_request(brief, item), item.scenes)
            steps += compile_plan(board, story, seed=seed + 100 * (index + 1), prefix=f"story{index + 1}-").steps
    return Plan(kind="brief", source="recipe", steps=steps)


def _image_steps(brief: Brief, index: int, spec: ImageSpec, seed: int) -> list[PlanStep]:
    prompt = image_prompt(brief, spec)
    base = spec.seed if spec.seed is not None else seed + 10 * (index + 1)
    steps = []
    for k, step_id in enumerate(image_ids(index + 1, spec)):
        args: dict[str, Any] = {"prompt": prompt, "seed": min(base + k, MAX_SEED), "width": spec.width,
                                "height": spec.height}
        if spec.steps:
            args["steps"] = spec.steps
        steps.append(PlanStep(id=step_id, tool="generate_image", args=args, intent=prompt))
    return steps


def image_prompt(brief: Brief, spec: ImageSpec) -> str:
    return spec.prompt.strip() if spec.prompt and spec.prompt.strip() else brief.subject()


def _video_step(brief: Brief, index: int, spec: VideoSpec, seed: int) -> PlanStep:
    source = brief.deliverables[spec.from_image] if spec.from_image is not None else None
    if spec.prompt and spec.prompt.strip():
        prompt = spec.prompt.strip()
    else:  # animating a picture: describe the picture, so the clip keeps showing it
        prompt = image_prompt(brief, source) if isinstance(source, ImageSpec) else brief.subject()
    own_seed = spec.seed if spec.seed is not None else seed + 10 * (index + 1)
    args: dict[str, Any] = {"prompt": prompt, "seconds": spec.seconds, "fps": spec.fps, "width": spec.width,
                            "height": spec.height, "seed": min(own_seed, MAX_SEED)}
    if spec.steps:
        args["steps"] = spec.steps
    if isinstance(source, ImageSpec):
        args["image"] = {"$ref": f"{image_ids(spec.from_image + 1, source)[0]}.image"}
    return PlanStep(id=f"video-{index + 1}", tool="generate_video", args=args, intent=prompt)


def _caption_steps(brief: Brief, index: int, spec: CaptionSpec) -> list[PlanStep]:
    target = brief.deliverables[spec.of]
    if isinstance(target, ImageSpec):
        ids = image_ids(spec.of + 1, target)
        names = [f"caption-{index + 1}"] if len(ids) == 1 else \
            [f"caption-{index + 1}-{k}" for k in range(1, len(ids) + 1)]
        intent = f"describe {image_prompt(brief, target)}"[:5000]
        return [PlanStep(id=name, tool="caption_image", args={"image": {"$ref": f"{ref}.image"}}, intent=intent)
                for name, ref in zip(names, ids, strict=True)]
    return [PlanStep(id=f"caption-{index + 1}", tool="caption_video", intent="describe the clip",
                     args={"video": {"$ref": f"video-{spec.of + 1}.video"}})]


def _speech_step(index: int, spec: NarrationSpec, text: str, seed: int) -> PlanStep:
    text = (spec.text or text).strip()
    args: dict[str, Any] = {"text": text, "seed": seed + index + 1}
    if spec.max_seconds:
        args["max_seconds"] = spec.max_seconds
    return PlanStep(id=f"speech-{index + 1}", tool="speak", args=args, intent=text)


def default_voiceover(brief: Brief) -> str:
    """The voice-over when no LLM writes one: the goal, said plainly, and who it is for."""
    text = brief.goal.strip().rstrip(".!?")
    text = text[:1].upper() + text[1:] + "."
    if brief.audience.strip():
        text += f" Made for {brief.audience.strip().rstrip('.')}."
    return text


def story_request(brief: Brief, spec: StorySpec) -> str:
    """What a story deliverable is about, as a story request for the storyboard writer."""
    if spec.prompt and spec.prompt.strip():
        return spec.prompt.strip()
    audience = f" for {brief.audience.strip()}" if brief.audience.strip() else ""
    return f"a story about {brief.goal.strip().rstrip('.')}{audience}"[:2000]
