"""Consistency scores the critic stores beside `clip_score`: does a caption of the asset say what was
asked (`caption_score`), do recurring characters keep their look across scenes (`identity_consistency`),
and does the narration say the script (`narration_wer`). Each is values-only: no media out.
"""
from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field, field_validator, model_validator

from tools.audio import read_audio, resample
from tools.base import Tool, ToolContext, ToolError, ToolInput, ToolResult, asset_ref, register
from tools.caption import keyframe_spans, merge_segments, sample_keyframes
from tools.media import open_image
from tools.metrics import cosine, cosines_to, mean, normalise, word_errors
from tools.scoring import MediaInput
from tools.speech import hotwords

# --- caption_score -------------------------------------------------------------------------------------------


class CaptionScoreInput(MediaInput):
    text: str = Field(min_length=1, max_length=2000, description="The intent the caption is held against.")
    frames: int = Field(default=4, ge=1, le=16, description="Video only: how many keyframes to sample and caption.")


@register
class CaptionScore(Tool):
    """Caption an image or video and score how close the caption is to the intent: the cosine of their
    sentence embeddings (MiniLM, -1..1; near 1 when the caption says what was asked). The caption is returned.
    """

    name = "caption_score"
    input_model = CaptionScoreInput
    outputs = {}
    # The captioner differs between profiles and the embedder does not, so the captioner's id is the one
    # that keys the tool-call cache and goes in the scores table; the embedder's id is in the details.
    model_role = "captioner"

    def run(self, args: CaptionScoreInput, ctx: ToolContext) -> ToolResult:
        caption, segments, label = self._caption(args, ctx)
        if not caption:
            raise ToolError(f"caption_score: the captioner produced no description for {label}")
        with ctx.models.use("embedder") as embedder:
            caption_vec, text_vec = embedder.encode([caption, args.text], normalize_embeddings=True,
                                                    convert_to_numpy=True)
        values: dict[str, Any] = {"caption_score": cosine(caption_vec, text_vec), "caption": caption,
                                  "embedder": embedder.spec.model_id}
        if segments is not None:
            values["segments"] = segments
        return ToolResult(values=values, model_id=ctx.models.spec(self.model_role).model_id)

    def _caption(self, args: CaptionScoreInput, ctx: ToolContext) -> tuple[str, list[dict] | None, str]:
        """The caption of an image; for a video, its keyframes' captions, repeats merged, joined as
        sentences in order (one text to embed, as a viewer would summarise the clip)."""
        if args.image is not None:
            with ctx.models.use(self.model_role) as captioner:
                caption = captioner.caption([open_image(ctx.asset(args.image, "image").path)])[0]
            return caption, None, f"image {args.image}"
        duration, frames = sample_keyframes(ctx.asset(args.video, "video").path, args.frames, name=args.video)
        with ctx.models.use(self.model_role) as captioner:
            captions = captioner.caption(frames)
        segments = merge_segments(keyframe_spans(duration, len(frames)), captions)
        return ". ".join(s["caption"] for s in segments), segments, f"video {args.video}"


# --- identity_consistency -------------------------------------------------------------------------------------

SceneImage = Annotated[str, asset_ref("image", "A scene's image (an image asset id).")]


class IdentityInput(ToolInput):
    images: list[SceneImage] = Field(min_length=2, max_length=24, description="The scenes' images, in story order.")
    groups: list[list[int]] | None = Field(
        default=None, min_length=1, max_length=24,
        description="One list per recurring character: the 0-based indices into `images` of the scenes it appears "
                    "in (at least two). Default: every scene, one group.",
    )

    @model_validator(mode="after")
    def _groups_index_images(self) -> IdentityInput:
        for number, group in enumerate(self.groups or []):
            outside = [i for i in group if not 0 <= i < len(self.images)]
            if outside:
                raise ValueError(f"`groups.{number}` names scenes {outside}, but `images` holds scenes "
                                 f"0..{len(self.images) - 1}")
            if len(set(group)) != len(group):
                raise ValueError(f"`groups.{number}` names a scene twice: {group}")
            if len(group) < 2:
                raise ValueError(f"`groups.{number}` has one scene; a recurring character appears in at least two")
        return self


@register
class IdentityConsistency(Tool):
    """Check recurring characters keep their look across scenes: each scene's CLIP image embedding is
    compared (cosine) with the character's first appearance; the score is the weakest scene's cosine.

    The whole picture is embedded, so a new background also lowers the cosine; compare scores of
    one story's scenes with each other rather than with a fixed number.
    """

    name = "identity_consistency"
    input_model = IdentityInput
    outputs = {}
    model_role = "clip"

    def run(self, args: IdentityInput, ctx: ToolContext) -> ToolResult:
        images = [open_image(ctx.asset(asset_id, "image").path) for asset_id in args.images]
        with ctx.models.use(self.model_role) as clip:
            embedded = clip.embed_images(images)
        groups = [_compare_group(embedded, sorted(g)) for g in (args.groups or [list(range(len(images)))])]
        weakest = min(groups, key=lambda g: g["min"])
        every = [c["cosine"] for g in groups for c in g["cosines"]]
        return ToolResult(values={"identity_consistency": weakest["min"], "mean": mean(every),
                                  "weakest_scene": weakest["weakest_scene"], "weakest_group": groups.index(weakest),
                                  "groups": groups},
                          model_id=clip.spec.model_id)


def _compare_group(embedded: np.ndarray, scenes: list[int]) -> dict[str, Any]:
    """Cosine of each later scene of a group with its first appearance; the group's weakest link."""
    first, later = scenes[0], scenes[1:]
    cosines = cosines_to(embedded[first], embedded[later])
    low = int(np.argmin(cosines))
    return {"scenes": scenes, "first": first,
            "cosines": [{"scene": s, "cosine": c} for s, c in zip(later, cosines, strict=True)],
            "min": cosines[low], "mean": mean(cosines), "weakest_scene": later[low]}


# --- narration_wer ---------------------------------------------------------------------------------------------

STT_RATE = 16000  # what whisper listens at


class NarrationWerInput(ToolInput):
    text: str = Field(min_length=1, max_length=5000, description="The script the narration should say.")
    audio: Annotated[str | None, asset_ref(
        "audio", "The narration to check (an audio asset id); if left out, the script is spoken with the "
                 "profile's voice first (a round trip)."
    )] = None
    context: str | None = Field(default=None, max_length=1000,
                                description="Names and terms in the script, to help the recogniser hear them.")

    @field_validator("text")
    @classmethod
    def _has_words(cls, value: str) -> str:
        if not normalise(value):
            raise ValueError("has no words to compare (only punctuation or spaces)")
        return value.strip()


@register
class NarrationWer(Tool):
    """Check narration says its script: transcribe the audio (or speak the script first, then transcribe)
    and score the word error rate (0 = every word heard right), with `tools.metrics.normalise` applied to both.
    """

    name = "narration_wer"
    input_model = NarrationWerInput
    outputs = {}
    model_role = "stt"  # the recogniser differs between profiles; the voice (if used) is in the details

    def run(self, args: NarrationWerInput, ctx: ToolContext) -> ToolResult:
        audio, rate, voice_id = self._narration(args, ctx)
        context = args.context.strip() if args.context and args.context.strip() else None
        with ctx.models.use(self.model_role) as model:
            segments, _ = model.transcribe(resample(audio, rate, STT_RATE), language="en", vad_filter=True,
                                           initial_prompt=context, hotwords=hotwords(context), beam_size=1)
            heard = " ".join(s.text.strip() for s in segments).strip()
        details = word_errors(args.text, heard).as_dict()  # normalised texts and error counts
        values = {"narration_wer": details.pop("wer"), **details, "transcript": heard,
                  "synthesised": voice_id is not None}
        if voice_id is not None:
            values["tts"] = voice_id
        return ToolResult(values=values, model_id=model.spec.model_id)

    def _narration(self, args: NarrationWerInput, ctx: ToolContext) -> tuple[np.ndarray, int, str | None]:
        """The given audio, or the script spoken at natural pace with seed 0 (and the voice's id)."""
        if args.audio is not None:
            view = ctx.asset(args.audio, "audio")
            audio, rate = read_audio(view.path, f"narration_wer: audio asset {args.audio}")
            return audio, rate, None
        with ctx.models.use("tts") as voice:
            audio, _ = voice.speak(args.text, speed=1.0, seed=0)
        return audio, voice.rate, voice.spec.model_id
