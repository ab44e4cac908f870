"""Entry points for people and systems: the `storyloom` CLI (and, next, the HTTP API)."""
