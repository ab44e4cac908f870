"""Entry points for people and systems: the `storyloom` command line (`api.cli`) and the HTTP API
(`api.app`, with one route module per resource in `api.routes`)."""
