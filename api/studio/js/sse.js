// Server-sent events over fetch(): EventSource cannot send the Authorization header. Events are
// stored rows with increasing ids, so a dropped connection (or a server restart) resumes with
// ?after=<last id seen>: no gap, and an id at or below it is never delivered twice.
import { call, TERMINAL } from './api.js';

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

export async function* parse(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = { id: null, event: 'message', data: '' };
      for (const line of block.split('\n')) {
        if (!line || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') event.data += (event.data ? '\n' : '') + text;
        else if (field === 'id' || field === 'event') event[field] = text;
      }
      if (event.data) yield { id: Number(event.id), type: event.event, data: JSON.parse(event.data) };
    }
  }
}

// Follows one run's events until its terminal event. onEvent gets each event once, in order;
// onState gets 'live', 'reconnecting' (with the last id seen) and 'ended'. 401 and 404 are final.
export async function follow(runId, { after = 0, onEvent, onState = () => {}, signal }) {
  let last = after;
  let delay = 500;
  while (!signal?.aborted) {
    try {
      const res = await call(`/v1/runs/${encodeURIComponent(runId)}/events?after=${last}`,
        { raw: true, signal, headers: { Accept: 'text/event-stream' } });
      onState('live', last);
      delay = 500;
      for await (const event of parse(res.body)) {
        const terminal = TERMINAL.has(event.type);
        // A synthetic terminal event (a run finished long ago) repeats the last id: still the end.
        if (event.id <= last && !terminal) continue;
        last = Math.max(last, event.id);
        onEvent(event);
        if (terminal) { onState('ended', last); return last; }
      }
    } catch (err) {
      if (err.name === 'AbortError' || signal?.aborted) return last;
      if (err.status === 401 || err.status === 404) { onState('ended', last, err); throw err; }
    }
    onState('reconnecting', last);
    await sleep(delay, signal);
    delay = Math.min(delay * 2, 5000);
  }
  return last;
}
