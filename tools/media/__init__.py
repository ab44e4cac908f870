"""Media helpers the tools share, with no model code and no tool: images (`image`), audio (`audio`), MP4
writing and clip reading (`mp4`), WebVTT subtitles (`vtt`) and video keyframes (`keyframes`). Every
decoder here refuses a broken or oversized input with a one-line ToolError.
"""
