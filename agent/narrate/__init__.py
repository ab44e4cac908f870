"""Accessibility narration of a media library: alt text, audio description, transcripts, reports."""
