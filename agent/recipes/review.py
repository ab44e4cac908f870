"""The storyboard as a reviewer sees and edits it before anything is rendered: title, cast (name, look,
voice), style and numbered scenes (narration, picture prompt, seed, locked).

`view` turns a Storyboard into that shape (every scene with its effective seed), `merge` applies a
patch to it (scenes by number) and `to_storyboard` turns it back. Every edit is validated with the
same models a request body is, unknown fields refused; a problem raises BoardError naming the field.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from agent.recipes.story import scene_seed_of
from agent.recipes.storyboard import Character, Scene, Storyboard
from tools.base import Seed
from tools.engines.tts import installed_voices

MAX_SCENES = 24


class BoardError(ValueError):
    """An edit the storyboard cannot take: `field` names where (`scenes.0.narration`), `conflict` marks an
    edit of a locked scene (409 rather than 422)."""

    def __init__(self, field: str, message: str, *, conflict: bool = False) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field, self.conflict = field, conflict


def _words(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return " ".join(value.split())


def _voice(value: str) -> str:
    if value != "heart" and value not in installed_voices():
        raise ValueError(f"unknown or not installed voice {value!r}; available: heart")
    return value


Words = Annotated[str, AfterValidator(_words)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CastMember(_Strict):
    name: Words = Field(max_length=40)
    look: Words = Field(min_length=3, max_length=120)
    voice: Annotated[str, AfterValidator(_voice)] = Field(default="heart", max_length=40)


class ReviewScene(_Strict):
    number: int = Field(ge=1, le=MAX_SCENES, description="1-based position of the scene.")
    narration: Words = Field(max_length=1000)
    picture: Words = Field(max_length=300, description="The picture prompt.")
    seed: Seed
    locked: bool = False


class ReviewBoard(_Strict):
    """What a paused run shows (the `awaiting_review` event, storyboard.yaml)."""

    title: Words = Field(max_length=120)
    cast: list[CastMember] = Field(default_factory=list, max_length=6)
    style: str = Field(default="", max_length=200)
    scenes: list[ReviewScene] = Field(min_length=1, max_length=MAX_SCENES)


class ScenePatch(_Strict):
    number: int = Field(ge=1, le=MAX_SCENES, description="Which scene (1-based).")
    narration: Words | None = Field(default=None, max_length=1000)
    picture: Words | None = Field(default=None, max_length=300)
    seed: Seed | None = None
    locked: bool | None = None


class BoardPatch(_Strict):
    """`PATCH /v1/runs/{id}/storyboard`: what is given replaces what was; `cast`, when given, is the whole
    cast; `scenes` are merged by number. A locked scene's fields change only with `locked: false`."""

    title: Words | None = Field(default=None, max_length=120)
    cast: list[CastMember] | None = Field(default=None, max_length=6)
    style: str | None = Field(default=None, max_length=200)
    scenes: list[ScenePatch] = Field(default_factory=list, max_length=MAX_SCENES)


def view(board: Storyboard, seed: int) -> dict[str, Any]:
    """The reviewer's storyboard of `board`, each scene with the seed it will be rendered with."""
    scenes = [{"number": n, "narration": sc.narration, "picture": sc.picture, "seed": scene_seed_of(sc, seed, n),
               "locked": sc.locked} for n, sc in enumerate(board.scenes, start=1)]
    cast = [c.model_dump() for c in board.characters]
    return {"title": board.title, "cast": cast, "style": board.style, "scenes": scenes}


def to_storyboard(review: ReviewBoard, base: Storyboard) -> Storyboard:
    """The Storyboard a reviewed board compiles from (the setting, which is not edited, from `base`)."""
    characters = [Character(name=c.name, look=c.look, voice=c.voice) for c in review.cast]
    scenes = [Scene(narration=s.narration, picture=s.picture, seed=s.seed, locked=s.locked) for s in review.scenes]
    return Storyboard(title=review.title, characters=characters, setting=base.setting, style=review.style,
                      scenes=scenes)


def parse_board(data: object) -> ReviewBoard:
    """A whole reviewed board (storyboard.yaml); BoardError naming the first bad field."""
    try:
        board = ReviewBoard.model_validate(data)
    except ValidationError as exc:
        raise BoardError(*_first(exc)) from None
    numbers = [s.number for s in board.scenes]
    if numbers != list(range(1, len(numbers) + 1)):
        raise BoardError("scenes.number", f"scenes must be numbered 1 to {len(numbers)} in order, got {numbers}")
    return board


def parse_patch(data: object) -> BoardPatch:
    try:
        return BoardPatch.model_validate(data)
    except ValidationError as exc:
        raise BoardError(*_first(exc)) from None


def merge(current: ReviewBoard, patch: BoardPatch) -> ReviewBoard:
    """`current` with `patch` applied; BoardError for a scene out of range or an edit of a locked scene."""
    board = current.model_copy(deep=True)
    for name in ("title", "cast", "style"):
        if getattr(patch, name) is not None:
            setattr(board, name, getattr(patch, name))
    for index, edit in enumerate(patch.scenes):
        if edit.number > len(board.scenes):
            raise BoardError(f"scenes.{index}.number", f"scene {edit.number} is out of range: the storyboard has "
                             f"{len(board.scenes)} scene(s)")
        scene = board.scenes[edit.number - 1]
        changes = edit.model_dump(exclude_none=True, exclude={"number", "locked"})
        changed = {k for k, v in changes.items() if getattr(scene, k) != v}
        if scene.locked and changed and edit.locked is not False:
            raise BoardError(f"scenes.{index}", f"scene {edit.number} is locked: send \"locked\": false with the "
                             "edit to change it", conflict=True)
        board.scenes[edit.number - 1] = scene.model_copy(update={**changes, **_lock(edit)})
    return board


def _lock(edit: ScenePatch) -> dict[str, bool]:
    return {} if edit.locked is None else {"locked": edit.locked}


def _first(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return ".".join(str(p) for p in err.get("loc", ())) or "storyboard", message
