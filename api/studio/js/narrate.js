// The narration view: describe media for blind and low-vision people, from folders inside the
// server's library roots or from uploaded files; per-item status while it runs, then the report.
import { call, fileBlob, saveBlob, TERMINAL } from './api.js';
import { announce, badge, h, notify, replace } from './dom.js';
import { follow } from './sse.js';

export async function narrateView(root, jobId) {
  const view = new NarrationView(root);
  if (jobId) view.watch(jobId);
  return view;
}

class NarrationView {
  constructor(root) {
    this.controller = new AbortController();
    this.paths = h('textarea', { id: 'paths', rows: 3, 'aria-describedby': 'paths-hint' });
    this.files = h('input', { id: 'files', type: 'file', multiple: true, accept: 'image/*,audio/*,video/*,.json,.txt' });
    this.job = h('section', { 'aria-labelledby': 'job-title', hidden: true });
    replace(root, h('h1', { tabindex: '-1' }, 'Describe media (accessibility)'),
      h('div', { class: 'pair' },
        h('form', { class: 'card', onsubmit: (e) => this.fromLibrary(e) }, h('h2', {}, 'From the library'),
          h('label', { for: 'paths' }, 'Files or folders, one per line'), this.paths,
          h('p', { id: 'paths-hint', class: 'hint' }, 'Inside the server’s library roots (',
            h('code', {}, 'STORYLOOM_NARRATION__LIBRARY_ROOTS'), '); relative paths start at the first root.'),
          h('button', { type: 'submit', class: 'primary' }, 'Describe these')),
        h('form', { class: 'card', onsubmit: (e) => this.fromUpload(e) }, h('h2', {}, 'From your computer'),
          h('label', { for: 'files' }, 'Media files'), this.files,
          h('p', { class: 'hint' }, 'Pictures, sound and video; a NAME.context.json next to a file gives it context.'),
          h('button', { type: 'submit', class: 'primary' }, 'Upload and describe'))),
      this.job);
  }

  stop() { this.controller.abort(); }

  async fromLibrary(event) {
    event.preventDefault();
    const paths = this.paths.value.split('\n').map((p) => p.trim()).filter(Boolean);
    if (!paths.length) { notify('Not accepted: name at least one file or folder'); return; }
    await this.start(event.submitter, () => call('/v1/narrations', { method: 'POST', body: { paths } }));
  }

  async fromUpload(event) {
    event.preventDefault();
    if (!this.files.files.length) { notify('Not accepted: choose at least one file'); return; }
    const form = new FormData();
    for (const file of this.files.files) form.append('files', file);
    await this.start(event.submitter, () => call('/v1/narrations/upload', { method: 'POST', body: form }));
  }

  async start(button, send) {
    button.disabled = true;
    try {
      const job = await send();
      history.replaceState(null, '', `#/narrate/${encodeURIComponent(job.id)}`);
      this.watch(job.id);
    } catch (err) { notify(err.message); } finally { button.disabled = false; }
  }

  async watch(jobId) {
    this.controller.abort();
    this.controller = new AbortController();
    this.jobId = jobId;
    await this.render();
    const refresh = () => this.render();
    follow(jobId, { signal: this.controller.signal,
      onEvent: (event) => {
        if (event.type === 'item') announce(`Item ${event.data.done} of ${event.data.total}: ${event.data.name} ${event.data.status}`);
        if (event.type === 'item' || TERMINAL.has(event.type)) refresh();
      } }).catch((err) => notify(err.message));
  }

  async render() {
    let job;
    try { job = await call(`/v1/narrations/${encodeURIComponent(this.jobId)}`); } catch (err) { notify(err.message); return; }
    if (this.shownJob !== job.id) this.frame(job.id);
    const rows = job.items.map((item) => h('tr', {}, h('td', {}, item.name), h('td', {}, item.kind),
      h('td', {}, badge(item.status)), h('td', {}, summaryOf(item)), h('td', {}, (item.wcag || []).join(', '))));
    const totals = Object.entries(job.totals || {}).map(([k, v]) => `${k.replaceAll('_', ' ')}: ${count(v)}`).join(' · ');
    replace(this.status, badge(job.status), ` ${job.items.length} item${job.items.length === 1 ? '' : 's'}${job.error ? ` · ${job.error}` : ''}`);
    this.totals.textContent = totals;
    replace(this.rows, rows);
    const finished = TERMINAL.has(job.status);
    if (this.controls.dataset.finished !== String(finished)) { // rebuilt only when it changes: focus stays put
      this.controls.dataset.finished = String(finished);
      replace(this.controls, finished
        ? h('button', { type: 'button', onclick: () => this.report() }, 'Download report (HTML)')
        : h('button', { type: 'button', class: 'danger', onclick: () => this.cancel() }, 'Cancel job'));
    }
  }

  frame(jobId) {
    this.shownJob = jobId;
    this.status = h('p', {});
    this.totals = h('p', { class: 'hint' });
    this.controls = h('div', { class: 'controls' });
    this.rows = h('tbody', {});
    replace(this.job, h('h2', { id: 'job-title' }, 'Narration job'), this.status, this.totals, this.controls,
      h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {},
        ['File', 'Kind', 'Status', 'Description', 'WCAG'].map((t) => h('th', { scope: 'col' }, t)))), this.rows)));
    this.job.hidden = false;
  }

  async cancel() {
    try { await call(`/v1/runs/${encodeURIComponent(this.jobId)}/cancel`, { method: 'POST' }); } catch (err) { notify(err.message); }
  }

  async report() {
    try { saveBlob(await fileBlob(this.jobId, 'report.html'), 'report.html'); } catch (err) { notify(err.message); }
  }
}

const count = (value) => (value && typeof value === 'object'
  ? Object.entries(value).map(([k, v]) => `${k} ${v}`).join(', ') || 'none' : value);

function summaryOf(item) {
  if (item.error) return h('span', { class: 'error-text' }, item.error);
  const d = item.data || {};
  const text = d.alt ?? d.transcript ?? d.description ?? '';
  return [text, ...(item.warnings || []).map((w) => h('div', { class: 'hint' }, `Warning: ${w}`))];
}
