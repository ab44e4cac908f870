"""The storyboard: what the LLM writes for a story before any media exists."""
from __future__ import annotations

from pydantic import BaseModel, Field


class Character(BaseModel):
    """A recurring character; `look` is repeated in every image prompt so scenes stay consistent."""

    name: str = Field(min_length=1, max_length=40)
    look: str = Field(min_length=3, max_length=120)
    voice: str = Field(default="heart", max_length=40, description="The voice that reads the story when it leads it.")


class Scene(BaseModel):
    narration: str = Field(min_length=1, max_length=1000, description="Read aloud for this scene.")
    picture: str = Field(min_length=1, max_length=300, description="What the scene's illustration shows.")
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1, description="The scene's seed; None: the run's.")
    locked: bool = Field(default=False, description="A locked scene is never changed by an edit or the critic.")


class Storyboard(BaseModel):
    title: str = Field(min_length=1, max_length=120)
    characters: list[Character] = Field(default_factory=list, max_length=6)
    setting: str = Field(default="", max_length=120, description="Where the story happens ('' when unsaid).")
    style: str = Field(default="", max_length=200, description="How every picture looks ('' when unsaid).")
    scenes: list[Scene] = Field(default_factory=list)

    def character_sheet(self) -> str:
        """'Mira: an old keeper in a yellow raincoat; Pip: a grey seal pup' (or '' with no cast)."""
        return "; ".join(f"{c.name}: {c.look}" for c in self.characters)

    def image_prompt(self, scene: Scene) -> str:
        sheet = self.character_sheet()
        prompt = f"{scene.picture.rstrip('.')}. Picture-book illustration."
        if self.setting and self.setting.lower() not in prompt.lower():
            prompt += f" Setting: {self.setting}."
        if self.style.strip():
            prompt += f" Style: {self.style.strip().rstrip('.')}."
        return f"{prompt} Characters: {sheet}." if sheet else prompt

    def scene_seed(self, number: int, base: int) -> int:
        """Scene `number`'s (1-based) seed: its own, else the run's seed + number, as before seeds were kept."""
        seed = self.scenes[number - 1].seed
        return base + number if seed is None else seed

    def with_seeds(self, base: int) -> Storyboard:
        """The board with every scene's seed written down (so a redo can change one)."""
        scenes = [sc.model_copy(update={"seed": self.scene_seed(n, base)}) for n, sc in enumerate(self.scenes, 1)]
        return self.model_copy(update={"scenes": scenes})
