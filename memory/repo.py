"""Repository functions: the only reads and writes the rest of Storyloom does on the memory.

Each takes the session first and flushes after adding, so new rows have their ids at once.
Committing is the caller's job (`Database.session()` commits when its block succeeds).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from memory.models import Asset, Base, ChatSession, Entity, Message, Run, Score, Step

_M = TypeVar("_M", bound=Base)


def _add(s: Session, row: _M) -> _M:
    s.add(row)
    s.flush()
    return row


def _update(s: Session, model: type[_M], row_id: str, fields: dict[str, Any]) -> _M:
    row = s.get(model, row_id)
    if row is None:
        raise KeyError(f"no {model.__name__} with id {row_id!r}")
    columns = inspect(model).column_attrs.keys()
    for name, value in fields.items():
        # setattr would silently accept a typo as a plain Python attribute.
        if name not in columns or name == "id":
            raise TypeError(f"{model.__name__} has no updatable field {name!r}")
        setattr(row, name, value)
    s.flush()
    return row


# --- runs -------------------------------------------------------------------------------


def create_run(
    s: Session,
    *,
    kind: str,
    request: str,
    profile: str,
    seed: int | None = None,
    session_id: str | None = None,
    api_key_id: str | None = None,
    output_dir: str | None = None,
    status: str = "queued",
) -> Run:
    run = Run(
        kind=kind,
        request=request,
        profile=profile,
        seed=seed,
        session_id=session_id,
        api_key_id=api_key_id,
        output_dir=output_dir,
        status=status,
    )
    return _add(s, run)


def get_run(s: Session, run_id: str) -> Run | None:
    return s.get(Run, run_id)


def list_runs(s: Session, *, limit: int = 50) -> list[Run]:
    """Newest first."""
    query = select(Run).order_by(Run.created_at.desc(), Run.id).limit(limit)
    return list(s.scalars(query))


def update_run(s: Session, run_id: str, **fields: Any) -> Run:
    """Set only the given columns; KeyError when the run does not exist."""
    return _update(s, Run, run_id, fields)


# --- steps ------------------------------------------------------------------------------


def create_step(
    s: Session, *, run_id: str, key: str, tool: str, args: dict[str, Any], intent: str = ""
) -> Step:
    # Revisions may append steps to a run later, so the position counts what is already there.
    count = s.scalar(select(func.count()).select_from(Step).where(Step.run_id == run_id)) or 0
    step = Step(run_id=run_id, key=key, position=count, tool=tool, args=args, intent=intent)
    return _add(s, step)


def get_step(s: Session, run_id: str, key: str) -> Step | None:
    return s.scalar(select(Step).where(Step.run_id == run_id, Step.key == key))


def get_step_by_id(s: Session, step_id: str) -> Step | None:
    return s.get(Step, step_id)


def update_step(s: Session, step_id: str, **fields: Any) -> Step:
    """Set only the given columns; KeyError when the step does not exist."""
    return _update(s, Step, step_id, fields)


def list_steps(s: Session, run_id: str) -> list[Step]:
    """In the order they were created."""
    return list(s.scalars(select(Step).where(Step.run_id == run_id).order_by(Step.position)))


# --- assets and scores ------------------------------------------------------------------


def create_asset(s: Session, **fields: Any) -> Asset:
    """Record an asset; every lineage column is a keyword (unknown names raise TypeError)."""
    return _add(s, Asset(**fields))


def get_asset(s: Session, asset_id: str) -> Asset | None:
    return s.get(Asset, asset_id)


def update_asset(s: Session, asset_id: str, **fields: Any) -> Asset:
    """Set only the given columns (e.g. `parent_id` of a revision); KeyError when it does not exist."""
    return _update(s, Asset, asset_id, fields)


def list_assets(s: Session, *, run_id: str) -> list[Asset]:
    """In the order they were created."""
    query = select(Asset).where(Asset.run_id == run_id).order_by(Asset.created_at, Asset.id)
    return list(s.scalars(query))


def find_cached(s: Session, *, cache_key: str, owner: str | None) -> list[Asset]:
    """The assets the first call with this cache key produced among the runs of API key `owner`
    (None: runs started without a key), or []. Keys never share results: a hit would tell one client
    what another asked for. Reuses elsewhere are recorded without the key (they point at the
    original through `params["cached_from"]`)."""
    same_owner = Run.api_key_id.is_(None) if owner is None else Run.api_key_id == owner
    query = (select(Asset).join(Run, Asset.run_id == Run.id).where(Asset.cache_key == cache_key, same_owner)
             .order_by(Asset.created_at).limit(1))
    first = s.scalars(query).first()
    if first is None:
        return []
    query = select(Asset).where(Asset.cache_key == cache_key, Asset.step_id == first.step_id,
                                Asset.run_id == first.run_id)
    return list(s.scalars(query.order_by(Asset.created_at, Asset.id)))


def add_score(
    s: Session,
    *,
    asset_id: str,
    metric: str,
    value: float,
    run_id: str | None = None,
    model_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> Score:
    score = Score(
        asset_id=asset_id,
        metric=metric,
        value=value,
        run_id=run_id,
        model_id=model_id,
        details=details or {},
    )
    return _add(s, score)


def find_score(s: Session, *, sha256: str, metric: str, model_id: str | None, text: str) -> Score | None:
    """A score already computed for the same bytes, metric, model and text (the critic's cache)."""
    query = (select(Score).join(Asset, Score.asset_id == Asset.id)
             .where(Asset.sha256 == sha256, Score.metric == metric, Score.model_id == model_id)
             .order_by(Score.created_at))
    return next((sc for sc in s.scalars(query) if (sc.details or {}).get("text") == text), None)


def list_scores(s: Session, *, asset_id: str | None = None, run_id: str | None = None) -> list[Score]:
    """Scores matching every filter given (all scores when none is), oldest first."""
    query = select(Score).order_by(Score.created_at, Score.id)
    if asset_id is not None:
        query = query.where(Score.asset_id == asset_id)
    if run_id is not None:
        query = query.where(Score.run_id == run_id)
    return list(s.scalars(query))


# --- entities ---------------------------------------------------------------------------


def create_entity(
    s: Session,
    *,
    name: str,
    kind: str,
    description: str,
    session_id: str | None = None,
    run_id: str | None = None,
    first_asset_id: str | None = None,
) -> Entity:
    entity = Entity(
        name=name,
        kind=kind,
        description=description,
        session_id=session_id,
        run_id=run_id,
        first_asset_id=first_asset_id,
    )
    return _add(s, entity)


def list_entities(s: Session, *, session_id: str | None = None, run_id: str | None = None) -> list[Entity]:
    """Entities matching every filter given, oldest first."""
    query = select(Entity).order_by(Entity.created_at, Entity.id)
    if session_id is not None:
        query = query.where(Entity.session_id == session_id)
    if run_id is not None:
        query = query.where(Entity.run_id == run_id)
    return list(s.scalars(query))


# --- chat sessions and messages -----------------------------------------------------------


def create_session(s: Session, *, api_key_id: str | None = None, title: str | None = None) -> ChatSession:
    return _add(s, ChatSession(api_key_id=api_key_id, title=title))


def get_session(s: Session, session_id: str) -> ChatSession | None:
    return s.get(ChatSession, session_id)


def list_sessions(s: Session, *, api_key_id: str | None = None, limit: int = 50) -> list[ChatSession]:
    """Newest first; only the key's own sessions when `api_key_id` is given."""
    query = select(ChatSession).order_by(ChatSession.created_at.desc(), ChatSession.id).limit(limit)
    if api_key_id is not None:
        query = query.where(ChatSession.api_key_id == api_key_id)
    return list(s.scalars(query))


def update_session(s: Session, session_id: str, **fields: Any) -> ChatSession:
    """Set only the given columns (e.g. `title`); KeyError when the session does not exist."""
    return _update(s, ChatSession, session_id, fields)


def add_message(s: Session, *, session_id: str, role: str, content: str, run_id: str | None = None) -> Message:
    return _add(s, Message(session_id=session_id, role=role, content=content, run_id=run_id))


def list_messages(s: Session, session_id: str) -> list[Message]:
    """Oldest first."""
    query = select(Message).where(Message.session_id == session_id).order_by(Message.created_at, Message.id)
    return list(s.scalars(query))


def list_session_runs(s: Session, session_id: str) -> list[Run]:
    """The runs started from a session, oldest first."""
    query = select(Run).where(Run.session_id == session_id).order_by(Run.created_at, Run.id)
    return list(s.scalars(query))
