"""What a run's chat session tells its planner: the earlier turns and the characters met so far."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from memory import repo


def session_context(s: Session, run: Any) -> tuple[list[str], list[str]]:
    """(history, entities) for planning `run`: the session's earlier user messages and run titles in
    time order, and its characters ("Pip: a grey seal pup", each name once). Empty outside a session."""
    if run is None or not run.session_id:
        return [], []
    lines = [(m.created_at, m.content) for m in repo.list_messages(s, run.session_id)
             if m.role == "user" and m.run_id != run.id]
    lines += [(r.created_at, f"(earlier {r.kind} run “{r.title}”: {r.status})")
              for r in repo.list_session_runs(s, run.session_id) if r.id != run.id and r.title]
    entities: dict[str, str] = {}
    for entity in repo.list_entities(s, session_id=run.session_id):
        entities.setdefault(entity.name, f"{entity.name}: {entity.description}")
    return [text for _, text in sorted(lines, key=lambda pair: pair[0])], list(entities.values())
