"""Repositories: the only reads and writes the rest of Storyloom does on the memory, one module per
aggregate (runs, steps, assets and scores, chat sessions, entities, events, API keys, webhook deliveries).

Each function takes the session first and flushes after adding, so new rows have their ids at once.
Committing is the caller's job (`Database.session()` commits when its block succeeds). Reads on behalf
of an API key take `owner=`: a row of another key is None (or absent from a list), so authorisation
lives in the query, not in each route.
"""
from memory.repo.assets import (
    add_score,
    create_asset,
    find_cached,
    find_input,
    find_score,
    get_asset,
    get_asset_for_run,
    list_assets,
    list_run_assets_by_key,
    list_scores,
    session_files,
    update_asset,
)
from memory.repo.cast import (
    create_cast_entity,
    delete_cast_entity,
    find_cast_entity,
    get_cast_entity,
    list_cast_entities,
    update_cast_entity,
)
from memory.repo.claims import (
    Claim,
    claim_idle,
    claim_next,
    count_waiting,
    expire_leases,
    lease_states,
    lease_token,
    list_leases,
    lock_key_admission,
    release_lease,
    renew_lease,
    request_cancel,
)
from memory.repo.entities import create_entity, list_entities
from memory.repo.events import add_event, has_terminal_event, list_events, step_announced
from memory.repo.keys import create_key, find_key, get_key, list_keys, revoke_key
from memory.repo.runs import (
    count_by_status,
    count_in_flight,
    create_run,
    find_by_idempotency_key,
    get_run,
    get_run_for_update,
    list_ended_without_event,
    list_not_ended,
    list_run_headers,
    list_runs,
    list_session_runs,
    list_unfinished,
    set_status_if,
    set_verdict,
    update_run,
)
from memory.repo.sessions import (
    add_message,
    create_session,
    get_session,
    has_reply,
    list_messages,
    list_sessions,
    update_session,
)
from memory.repo.steps import create_step, get_step, get_step_by_id, list_steps, update_step
from memory.repo.webhooks import add_delivery, claim_due, get_delivery, update_delivery

__all__ = [
    "Claim", "add_delivery", "add_event", "add_message", "add_score", "claim_due", "claim_idle", "claim_next",
    "count_by_status", "count_in_flight", "count_waiting", "create_asset", "create_cast_entity", "create_entity",
    "create_key", "create_run", "create_session", "create_step", "delete_cast_entity", "expire_leases",
    "find_by_idempotency_key", "find_cached", "find_cast_entity", "find_input", "find_key", "find_score",
    "get_asset", "get_asset_for_run", "get_cast_entity", "get_delivery", "get_key", "get_run",
    "get_run_for_update", "get_session", "get_step", "get_step_by_id", "has_reply", "has_terminal_event",
    "lease_states", "lease_token", "list_assets", "list_cast_entities", "list_ended_without_event",
    "list_entities", "list_events", "list_keys", "list_leases", "list_messages", "list_not_ended",
    "list_run_assets_by_key", "list_run_headers", "list_runs", "list_scores", "list_session_runs", "list_sessions",
    "list_steps", "list_unfinished", "lock_key_admission", "release_lease", "renew_lease", "request_cancel",
    "revoke_key", "session_files", "set_status_if", "set_verdict", "step_announced", "update_asset",
    "update_cast_entity", "update_delivery", "update_run", "update_session", "update_step",
]
