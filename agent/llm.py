"""One LLM interface, two engines: an OpenAI-compatible server (vLLM in production) or the embedded model.

Both return JSON that matches a schema: the server through `response_format` (vLLM enforces it with
guided decoding), the embedded model through xgrammar-constrained decoding. Within a run the LLM is
wrapped in `RecordedLLM`: every answer (or failure) is kept as a JSON asset of the run, with lineage,
and reused for an identical call. `ask_model` is the one way to ask for a small pydantic model and
fall back when there is none.
"""
from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from agent.cache import digest, reuse
from agent.settings import LLMSettings
from memory import repo
from memory.db import Database
from memory.store import AssetStore
from tools.base import ToolError, one_line
from tools.model_manager import ModelManager

log = logging.getLogger("storyloom.llm")
M = TypeVar("M", bound=BaseModel)

_UNAVAILABLE = [  # openai exception name in ServerLLM's message -> what to tell the user
    ("AuthenticationError", "the LLM server refused the API key (HTTP 401); check STORYLOOM_LLM__API_KEY"),
    ("PermissionDeniedError", "the LLM server refused access (HTTP 403); check STORYLOOM_LLM__API_KEY"),
    ("NotFoundError", "the LLM server does not serve this model (HTTP 404); check STORYLOOM_LLM__MODEL"),
    ("APITimeoutError", "the LLM server did not answer within STORYLOOM_LLM__TIMEOUT"),
    ("APIConnectionError", "the LLM server could not be reached; check STORYLOOM_LLM__BASE_URL"),
    ("InternalServerError", "the LLM server failed (HTTP 5xx)"),
    ("RateLimitError", "the LLM server is rate limiting (HTTP 429)"),
    ("BadRequestError", "the LLM server rejected the request (HTTP 400)"),
]


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
            # Clients see runs' errors: the server's address and its own words stay in the log (issue 19).
            log.warning("LLM server %s: %s: %s", self.client.base_url, type(exc).__name__, exc)
            raise LLMUnavailable(f"the LLM server did not answer ({type(exc).__name__}); the server log has "
                                 "the details") from None
        except (json.JSONDecodeError, IndexError) as exc:
            log.warning("LLM server %s did not return JSON: %s", self.client.base_url, exc)
            raise LLMError(f"the LLM server did not return JSON ({type(exc).__name__})") from None


def make_llm(settings: LLMSettings, models: ModelManager) -> LLM:
    """The server when a base URL is configured, else the embedded model."""
    return ServerLLM(settings) if settings.base_url else EmbeddedLLM(models)


class RecordedLLM:
    """Wraps an LLM for one run: answers are stored as `document` assets and looked up first.

    A resumed run asks its questions again: the n-th asking of a question is answered by the run's own
    n-th recorded answer to it, so a resume neither asks the model again nor records the answer twice.
    """

    def __init__(self, llm: LLM, db: Database, store: AssetStore, *, run_id: str, use_cache: bool = True):
        self.llm, self.db, self.store, self.run_id, self.use_cache = llm, db, store, run_id, use_cache
        self.name = llm.name
        with db.session() as s:  # numbering continues across the run's planning and revision rounds
            self.calls = sum(1 for a in repo.list_assets(s, run_id=run_id) if a.tool == "llm")
        self._asked: dict[str, int] = {}

    def json(self, messages: list[dict[str, str]], schema: dict[str, Any], *, seed: int = 0,
             max_tokens: int = 256) -> Any:
        key = digest({"llm": self.name, "messages": messages, "schema": schema, "seed": seed, "max": max_tokens})
        nth, self._asked[key] = self._asked.get(key, 0), self._asked.get(key, 0) + 1
        record = self._own(key, nth)
        if record is None:
            self.calls += 1
            role = f"llm-{self.calls}"
            record = self._cached(key, role) if self.use_cache else None
        if record is None:
            started = time.perf_counter()
            try:
                record = {"answer": self.llm.json(messages, schema, seed=seed, max_tokens=max_tokens)}
            except LLMUnavailable:
                raise  # transient: asking again later may work, so it is not remembered
            except LLMError as exc:  # a seeded bad answer repeats too: keep it, so a re-run doesn't pay again
                record = {"error": str(exc)}
            self._store(record, key, role, messages, seed, round(time.perf_counter() - started, 3))
        if "error" in record:
            raise LLMError(record["error"])
        return record["answer"]

    def _own(self, key: str, nth: int) -> dict | None:
        """The run's own `nth` answer to this question (asked before a crash or restart), if any."""
        with self.db.session() as s:
            mine = repo.list_run_assets_by_key(s, run_id=self.run_id, cache_key=key)
            return json.loads(self.store.path(mine[nth].sha256).read_bytes()) if nth < len(mine) else None

    def _cached(self, key: str, role: str) -> dict | None:
        with self.db.session() as s:
            hit = reuse(s, key, run_id=self.run_id, step_row=None, step_key=role)
            if not hit:
                return None
            return json.loads(self.store.path(repo.get_asset(s, next(iter(hit[0].values()))).sha256).read_bytes())

    def _store(self, record: dict, key: str, role: str, messages: list[dict[str, str]], seed: int,
               seconds: float) -> None:
        data = json.dumps(record, ensure_ascii=False, indent=1).encode()
        sha, _ = self.store.put(data)
        with self.db.session() as s:
            repo.create_asset(s, run_id=self.run_id, tool="llm", name="answer", role=role, kind="document",
                              mime="application/json", sha256=sha, size=len(data), model_id=self.name,
                              intent=messages[-1]["content"][:2000], seed=seed, cache_key=key,
                              params={"messages": messages, "seconds": seconds})


@dataclass
class Answer(Generic[M]):
    """What `ask_model` got: the validated answer, or why there is none."""

    value: M | None
    problem: str = ""
    unavailable: bool = False  # the LLM could not be asked at all (transient, unlike a bad answer)


def ask_model(llm: LLM | None, messages: list[dict[str, str]], model: type[M], *, seed: int,
              max_tokens: int = 256) -> Answer[M]:
    """Ask for JSON shaped like `model` and validate it; a missing LLM, an unreachable one and an
    unusable answer all come back as an empty Answer with a one-line reason, for the caller's fallback."""
    if llm is None:
        return Answer(None, "no LLM is configured", unavailable=True)
    try:
        return Answer(model.model_validate(llm.json(messages, model.model_json_schema(), seed=seed,
                                                    max_tokens=max_tokens)))
    except LLMUnavailable as exc:
        return Answer(None, one_line(exc), unavailable=True)
    except (LLMError, ValidationError) as exc:
        return Answer(None, one_line(exc))


def explain_unavailable(message: str) -> str:
    """ServerLLM's error as one line a person can act on (the raw message when it is not recognised)."""
    where = re.search(r"LLM server (\S+?): ", message)
    suffix = f" ({where.group(1)})" if where else ""
    for name, text in _UNAVAILABLE:
        if name in message:
            return text + suffix
    return one_line(message)
