"""The `storyloom` command line: `main` parses and dispatches, one module per group of commands
(`runs`: story, plan, run and runs; `admin`: models, database and keys; `tool_calls`; `evaluate`;
`narrate`; `server`), `common` holds what they share and `render` draws tables and progress."""
from api.cli.main import main

__all__ = ["main"]
