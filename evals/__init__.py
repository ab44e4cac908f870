"""Evaluation suites, metrics, reports and benchmarks (the critic and planner evaluations live here)."""
