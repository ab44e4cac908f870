"""Assets (produced files with their lineage) and the critic's scores of them."""
from __future__ import annotations

from pathlib import PurePath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from memory.repo._rows import add, update
from memory.tables import Asset, Run, Score, is_id


def create_asset(s: Session, **fields: Any) -> Asset:
    """Record an asset; every lineage column is a keyword (unknown names raise TypeError)."""
    return add(s, Asset(**fields))


def get_asset(s: Session, asset_id: str, *, owner: str | None = None) -> Asset | None:
    """The asset; with `owner`, None unless it belongs to a run of that API key."""
    if owner is not None and not is_id(asset_id):
        return None
    asset = s.get(Asset, asset_id)
    if asset is None or owner is None:
        return asset
    run = s.get(Run, asset.run_id) if asset.run_id else None
    return asset if run is not None and run.api_key_id == owner else None


def get_asset_for_run(s: Session, asset_id: str, run_id: str) -> Asset | None:
    """The asset if it belongs to a run of the same API key as run `run_id` (runs without a key, the
    CLI's, count as one owner); None otherwise, exactly as for an id that does not exist."""
    if not is_id(asset_id):
        return None
    asset = s.get(Asset, asset_id)
    if asset is None or asset.run_id is None:
        return None
    if asset.run_id == run_id:
        return asset
    source, reader = s.get(Run, asset.run_id), s.get(Run, run_id)
    return asset if source is not None and reader is not None and source.api_key_id == reader.api_key_id else None


def update_asset(s: Session, asset_id: str, **fields: Any) -> Asset:
    """Set only the given columns (e.g. `parent_id` of a revision); KeyError when it does not exist."""
    return update(s, Asset, asset_id, fields)


def list_assets(s: Session, *, run_id: str) -> list[Asset]:
    """In the order they were created."""
    query = select(Asset).where(Asset.run_id == run_id).order_by(Asset.created_at, Asset.id)
    return list(s.scalars(query))


def list_run_assets_by_key(s: Session, *, run_id: str, cache_key: str) -> list[Asset]:
    """The run's own assets made under one cache key, oldest first."""
    query = (select(Asset).where(Asset.run_id == run_id, Asset.cache_key == cache_key)
             .order_by(Asset.created_at, Asset.id))
    return list(s.scalars(query))


def find_input(s: Session, *, run_id: str, role: str, sha256: str) -> Asset | None:
    """The run's asset with this role and content, if one was recorded (an import repeated on resume)."""
    query = select(Asset).where(Asset.run_id == run_id, Asset.role == role, Asset.sha256 == sha256)
    return s.scalars(query.order_by(Asset.created_at, Asset.id).limit(1)).first()


def session_files(s: Session, session_id: str) -> dict[str, str]:
    """File name -> asset id of the files brought into a chat session (imported inputs of its runs, which
    keep their source path in `params["source"]`); the newest copy of a name wins."""
    query = (select(Asset).join(Run, Asset.run_id == Run.id)
             .where(Run.session_id == session_id, Asset.tool.in_(("import", "narrate")))
             .order_by(Asset.created_at, Asset.id))
    return {PurePath(str(a.params["source"])).name: a.id for a in s.scalars(query)
            if isinstance(a.params, dict) and a.params.get("source")}


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


def add_score(s: Session, *, asset_id: str, metric: str, value: float, run_id: str | None = None,
              model_id: str | None = None, details: dict[str, Any] | None = None) -> Score:
    """Record a score; an asset already scored on `metric` keeps its first score (a resumed critique
    repeats work whose results were committed before the crash), which is returned."""
    existing = s.scalar(select(Score).where(Score.asset_id == asset_id, Score.metric == metric))
    if existing is not None:
        return existing
    return add(s, Score(asset_id=asset_id, metric=metric, value=value, run_id=run_id, model_id=model_id,
                        details=details or {}))


def find_score(s: Session, *, sha256: str, metric: str, model_id: str | None, text: str,
               run_id: str) -> Score | None:
    """A score already computed for the same bytes, metric, model and text (the critic's cache), by a
    run of the same API key as `run_id`: a hit from another key's run would tell, by its speed, what
    that key had spoken or drawn (issue 19)."""
    reader = s.get(Run, run_id)
    owner = reader.api_key_id if reader is not None else None
    same_owner = Run.api_key_id.is_(None) if owner is None else Run.api_key_id == owner
    query = (select(Score).join(Asset, Score.asset_id == Asset.id).join(Run, Score.run_id == Run.id)
             .where(Asset.sha256 == sha256, Score.metric == metric, Score.model_id == model_id, same_owner)
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
