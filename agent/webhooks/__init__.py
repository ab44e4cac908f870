"""Signed webhooks: a run's summary POSTed to the caller's URL when the run ends.

`target` decides which URLs may be reached (no server-side request forgery), `signing` holds the
Standard Webhooks signature, `outbox` writes a delivery with the run's end and schedules retries,
`sender` is the thread that delivers them.
"""
