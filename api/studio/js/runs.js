// The runs view (every run of the key, any kind: status, progress, cancel) and one run on its own.
import { call, TERMINAL } from './api.js';
import { announce, badge, h, notify, replace, when } from './dom.js';
import { RunCard } from './runcard.js';

const POLL_MS = 2000;
const DONE = new Set(['succeeded', 'failed']);

export async function runsView(root) {
  const table = h('tbody', {});
  const status = h('p', { class: 'hint' }, 'Loading runs…');
  replace(root, h('h1', { tabindex: '-1' }, 'Runs'), status,
    h('div', { class: 'table-wrap' }, h('table', {}, h('caption', { class: 'visually-hidden' }, 'Your runs, newest first'),
      h('thead', {}, h('tr', {}, ['Created', 'Kind', 'What', 'Status', 'Progress', 'Actions']
        .map((text) => h('th', { scope: 'col' }, text)))), table)));
  let timer = null;
  let stopped = false;
  const tick = async () => {
    try {
      const runs = (await call('/v1/runs?limit=100')).runs;
      const details = await Promise.all(runs.map((r) => (TERMINAL.has(r.status) ? r : call(`/v1/runs/${r.id}`).catch(() => r))));
      if (stopped) return;
      upsert(table, details);
      status.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'}; ${details.filter((r) => !TERMINAL.has(r.status)).length} unfinished.`;
      if (details.some((r) => !TERMINAL.has(r.status))) timer = setTimeout(tick, POLL_MS);
    } catch (err) { notify(err.message); }
  };
  await tick();
  return { stop() { stopped = true; clearTimeout(timer); } };
}

// Rows are updated in place, so a focused link or button keeps its focus while the list refreshes.
function upsert(table, runs) {
  const rows = new Map([...table.rows].map((tr) => [tr.dataset.runId, tr]));
  runs.forEach((run, index) => {
    let tr = rows.get(run.id);
    if (!tr) tr = h('tr', { dataset: { runId: run.id } }, [0, 1, 2, 3, 4, 5].map(() => h('td', {})));
    const [created, kind, what, status, progress, actions] = tr.cells;
    const name = run.title || run.request;
    created.textContent = when(run.created_at);
    kind.textContent = run.kind;
    // The title names the run; the request under it is what the person wrote, the words they will look for.
    const asked = run.title && run.request && run.title !== run.request;
    replace(what, name, asked ? h('span', { class: 'hint request' }, ` (${run.request})`) : '');
    replace(status, badge(run.status), run.error && run.error !== run.status ? h('span', { class: 'hint' }, ` ${run.error}`) : '');
    replace(progress, progressOf(run, name));
    if (tr.dataset.status !== run.status) replace(actions, actionsOf(run, name));
    tr.dataset.status = run.status;
    if (table.rows[index] !== tr) table.insertBefore(tr, table.rows[index] || null);
  });
}

function progressOf(run, name) {
  if (TERMINAL.has(run.status)) return 'done';
  const steps = run.plan?.steps || [];
  if (!steps.length) return run.status === 'queued' ? 'waiting' : 'planning';
  const done = (run.steps || []).filter((s) => DONE.has(s.status) && steps.some((p) => p.id === s.key)).length;
  return [h('progress', { max: steps.length, value: done, 'aria-label': `Progress of ${name}` }), ` ${done} of ${steps.length} steps`];
}

function actionsOf(run, name) {
  const id = encodeURIComponent(run.id);
  const open = run.session_id ? `#/chat/${encodeURIComponent(run.session_id)}`
    : run.kind === 'narration' ? `#/narrate/${id}` : `#/run/${id}`;
  const actions = [h('a', { href: open }, 'Open', h('span', { class: 'visually-hidden' }, ` ${name}`))];
  if (!TERMINAL.has(run.status)) {
    actions.push(' ', h('button', { type: 'button', class: 'danger', onclick: (e) => cancel(e.currentTarget, run) }, 'Cancel',
      h('span', { class: 'visually-hidden' }, ` ${name}`)));
  }
  return actions;
}

async function cancel(button, run) {
  button.disabled = true;
  try {
    const after = await call(`/v1/runs/${encodeURIComponent(run.id)}/cancel`, { method: 'POST' });
    announce(`${run.title || 'Run'}: ${after.status === 'cancelled' ? 'cancelled' : 'cancelling'}`);
  } catch (err) { notify(err.message); button.disabled = false; }
}

// A run that belongs to no session (a brief, a narration, an API client's run).
export async function runView(root, runId) {
  const card = new RunCard(runId, { level: 2, onRetried: (run) => { location.hash = `#/run/${encodeURIComponent(run.id)}`; } });
  replace(root, h('h1', { tabindex: '-1' }, 'Run'), card.el);
  await card.start();
  return card;
}
