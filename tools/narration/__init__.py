"""The pure media code of narration (accessible descriptions of a media library): the audio-description
mix (`admix`), pauses in speech (`gaps`), pixel measures (`pixels`), XMP/IPTC accessibility metadata
(`metadata`), the transcript page (`transcript`) and the style rules for descriptions (`style`). No
model runs here; the narration job that drives them lives in `agent/narrate/`.
"""
