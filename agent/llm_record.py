"""Every LLM answer (or failure) is kept as a JSON asset of its run, with lineage, and reused for an
identical call.

The same engine, messages, schema, seed and token budget give the stored answer instead of a new
generation (like the tool-call cache), which makes re-running a story cheap and its text stable.
"""
from __future__ import annotations

import json
from typing import Any

from agent.cache import digest, reuse
from agent.llm import LLM, LLMError, LLMUnavailable
from memory import repo
from memory.db import Database
from memory.store import AssetStore


class RecordedLLM:
    """Wraps an LLM for one run: answers are stored as `document` assets and looked up first."""

    def __init__(self, llm: LLM, db: Database, store: AssetStore, *, run_id: str, use_cache: bool = True):
        self.llm, self.db, self.store, self.run_id, self.use_cache = llm, db, store, run_id, use_cache
        self.name = llm.name
        with db.session() as s:  # numbering continues across the run's planning and revision rounds
            self.calls = sum(1 for a in repo.list_assets(s, run_id=run_id) if a.tool == "llm")

    def json(self, messages: list[dict[str, str]], schema: dict[str, Any], *, seed: int = 0,
             max_tokens: int = 256) -> Any:
        self.calls += 1
        role = f"llm-{self.calls}"
        key = digest({"llm": self.name, "messages": messages, "schema": schema, "seed": seed, "max": max_tokens})
        record = self._cached(key, role) if self.use_cache else None
        if record is None:
            try:
                record = {"answer": self.llm.json(messages, schema, seed=seed, max_tokens=max_tokens)}
            except LLMUnavailable:
                raise  # transient: asking again later may work, so it is not remembered
            except LLMError as exc:  # a seeded bad answer repeats too: keep it, so a re-run doesn't pay again
                record = {"error": str(exc)}
            self._store(record, key, role, messages, seed)
        if "error" in record:
            raise LLMError(record["error"])
        return record["answer"]

    def _cached(self, key: str, role: str) -> dict | None:
        with self.db.session() as s:
            hit = reuse(s, key, run_id=self.run_id, step_row=None, step_key=role)
            if not hit:
                return None
            return json.loads(self.store.path(repo.get_asset(s, next(iter(hit[0].values()))).sha256).read_bytes())

    def _store(self, record: dict, key: str, role: str, messages: list[dict[str, str]], seed: int) -> None:
        data = json.dumps(record, ensure_ascii=False, indent=1).encode()
        sha, _ = self.store.put(data)
        with self.db.session() as s:
            repo.create_asset(s, run_id=self.run_id, tool="llm", name="answer", role=role, kind="document",
                              mime="application/json", sha256=sha, size=len(data), model_id=self.name,
                              intent=messages[-1]["content"][:2000], seed=seed, cache_key=key,
                              params={"messages": messages})
