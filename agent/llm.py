"""One LLM interface, two engines: an OpenAI-compatible server (vLLM in production) or the embedded model.

Both return JSON that matches a schema: the server through `response_format` (vLLM enforces it with
guided decoding), the embedded model through xgrammar-constrained decoding.
"""
from __future__ import annotations

import json
from typing import Any, Protocol

from agent.settings import LLMSettings
from tools.base import ToolError
from tools.model_manager import ModelManager


class LLMError(Exception):
    """The LLM's answer is unusable (cut short, not valid JSON)."""


class LLMUnavailable(LLMError):
    """The LLM could not be asked (unreachable, refused, timed out, model would not load): transient."""


class LLM(Protocol):
    name: str

    def json(self, messages: list[dict[str, str]], schema: dict[str, Any], *, seed: int = 0,
             max_tokens: int = 256) -> Any: ...


class EmbeddedLLM:
    """The profile's in-process model (SmolLM2-135M offline), loaded once by the model manager."""

    def __init__(self, models: ModelManager):
        self.models = models
        self.name = models.spec("llm").model_id

    def json(self, messages, schema, *, seed=0, max_tokens=256):
        try:
            with self.models.use("llm") as llm:
                return llm.generate_json(messages, schema, max_new_tokens=max_tokens, seed=seed)
        except ToolError as exc:  # the model would not load
            raise LLMUnavailable(str(exc)) from None
        except ValueError as exc:  # a cut-short answer
            raise LLMError(str(exc)) from None


class ServerLLM:
    """Any OpenAI-compatible chat endpoint, e.g. `vllm serve Qwen/Qwen3-8B`."""

    def __init__(self, settings: LLMSettings):
        from openai import OpenAI

        self.name = settings.model or "default"
        self.extra_body = settings.extra_body
        self.client = OpenAI(base_url=settings.base_url, api_key=settings.api_key or "EMPTY",
                             timeout=settings.timeout, max_retries=1)

    def json(self, messages, schema, *, seed=0, max_tokens=256):
        import openai

        fmt = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
        try:
            reply = self.client.chat.completions.create(
                model=self.name, messages=messages, response_format=fmt, seed=seed, max_tokens=max_tokens,
                temperature=0.7, extra_body=self.extra_body,
            )
            return json.loads(reply.choices[0].message.content or "")
        except openai.OpenAIError as exc:
            raise LLMUnavailable(f"LLM server {self.client.base_url}: {type(exc).__name__}: {exc}") from None
        except (json.JSONDecodeError, IndexError) as exc:
            raise LLMError(f"LLM server {self.client.base_url} did not return JSON: {exc}") from None


def make_llm(settings: LLMSettings, models: ModelManager) -> LLM:
    """The server when a base URL is configured, else the embedded model."""
    return ServerLLM(settings) if settings.base_url else EmbeddedLLM(models)
