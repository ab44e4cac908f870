"""Model engines: the models the tools run, one module per profile role (`text_to_image`, `text_to_video`,
`captioner`, `clip`, `embedder`, `tts`, `stt`, `llm`). Each holds the loaded model's small wrapper, the
loader the profiles name (`tools.engines.<role>:load_<role>`), and, where no offline weights exist, the
tiny builder (`tools.engines.tiny` is the shared build machinery). No tool is defined here.
"""
