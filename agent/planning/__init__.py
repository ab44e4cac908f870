"""Planning: a run's request becomes a validated Plan. `dispatch` picks the planner by run kind (the
story, brief and edit recipes, or the free-form LLM planner), `intent` decides what a request asks
for, `llm_planner` asks an LLM for a tool graph, `prompts` holds what it is sent, and `context`
gathers a chat session's history for it."""
