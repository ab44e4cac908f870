"""The agent: settings, the Plan, planners and recipes, the executor, the critic, the graph, the run service."""
