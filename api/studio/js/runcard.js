// One run, live: status and progress, the storyboard, each step as it starts and ends, pictures and
// narration as they land, the critic's verdicts, then the video, downloads and the storybook.
// It renders from the run's own endpoints: GET /v1/runs/{id} (+ /storyboard) and the event stream.
import { call, TERMINAL } from './api.js';
import { announce, badge, h, notify, replace, uid } from './dom.js';
import { follow } from './sse.js';
import { openAsset } from './assetpanel.js';
import { resultParts } from './result.js';
import { AWAITING, ReviewForm } from './review.js';
import { preview, SceneCard, verdictLine } from './scenes.js';
import { sceneControls } from './scenecontrols.js';
import { describe, family, stepLabel } from './words.js';

const DONE = new Set(['succeeded', 'failed']);

const near = new Map();
const observer = 'IntersectionObserver' in window ? new IntersectionObserver((entries) => {
  for (const entry of entries.filter((e) => e.isIntersecting)) {
    near.get(entry.target)?.();
    near.delete(entry.target);
    observer.unobserve(entry.target);
  }
}, { rootMargin: '600px 0px' }) : null;

function whenNear(el, callback) {
  if (!observer) { callback(); return; }
  near.set(el, callback);
  observer.observe(el);
}

export class RunCard {
  constructor(runId, { onChangeScene = null, onRetried = null, onFinished = () => {}, level = 2 } = {}) {
    Object.assign(this, { id: runId, onChangeScene, onRetried, onFinished, level });
    this.summary = null; this.board = null; this.steps = new Map(); this.scenes = new Map(); this.seen = new Set();
    this.verdictEvents = [];
    this.controller = new AbortController();
    this.build();
    // Media is fetched once the card is near the screen: a long thread does not download every video.
    this.visible = new Promise((resolve) => whenNear(this.el, resolve));
  }

  build() {
    const titleId = uid('run');
    this.title = h(`h${this.level}`, { id: titleId }, 'Run');
    this.statusLine = h('p', { class: 'status-line' }, 'Loading…');
    this.progress = h('progress', { 'aria-labelledby': titleId });
    this.controls = h('div', { class: 'controls' });
    this.boardPart = h('section', { hidden: true });
    this.gallery = h('ul', { class: 'gallery', hidden: true });
    this.stepList = h('ul', { class: 'steps' });
    this.verdicts = h('ul', { class: 'verdicts' });
    this.result = h('section', { hidden: true });
    this.logList = h('ol', {});
    this.log = h('details', { class: 'log', ontoggle: () => this.log.open && this.replay() },
      h('summary', {}, 'Progress log'), this.logList);
    // A run awaiting review shows its storyboard as a form with Approve and Cancel (review.js).
    this.reviewForm = new ReviewForm(this.id, { onDone: (run, approved) => this.reviewed(run, approved) });
    this.review = this.reviewForm.el;
    this.el = h('article', { class: 'run', 'aria-labelledby': titleId, dataset: { runId: this.id } },
      h('header', {}, this.title, this.statusLine, this.progress, this.controls), this.review, this.boardPart,
      this.gallery, h('h3', {}, 'Steps'), this.stepList, h('h3', {}, 'Critic'), this.verdicts, this.result, this.log);
    this.renderVerdicts();
  }

  async start() {
    try {
      await this.refresh();
    } catch (err) {
      replace(this.statusLine, err.message);
      return this;
    }
    if (TERMINAL.has(this.summary.status)) await this.finish({ live: false, streamed: false });
    else this.follow();
    return this;
  }

  stop() { this.controller.abort(); }

  // --- the event stream ---------------------------------------------------------------------
  follow() {
    if (this.following) return;
    this.following = true;
    const opened = { at: 0 };
    follow(this.id, {
      signal: this.controller.signal,
      onEvent: (event) => this.onEvent(event, performance.now() - opened.at > 300),
      onState: (state, last) => {
        if (state === 'live') opened.at = opened.at || performance.now();
        if (state === 'reconnecting') this.setStatus(`Connection lost; reconnecting from event ${last}…`);
      },
    }).catch((err) => notify(err.message));
  }

  replay() { if (!this.following && TERMINAL.has(this.summary?.status)) this.follow(); }

  onEvent(event, live) {
    const key = `${event.id}:${event.type}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const text = describe(event, this.summary?.kind === 'story');
    this.logList.append(h('li', { dataset: { eventId: event.id, type: event.type } }, text));
    if (live && event.type !== 'score') announce(`${this.label()}: ${text}`);
    if (event.type === 'step') this.onStep(event.data);
    if (event.type === 'score') this.onScore(event);
    if (event.type === 'stage' && event.data.stage === 'revise') { this.verdictEvents.push(event); this.renderVerdicts(); }
    if (TERMINAL.has(event.type)) {
      this.summary = { ...this.summary, status: event.type, error: event.data.error };
      this.refreshSoon().then(() => this.finish({ live, streamed: true }));
    } else if (['queued', 'status', 'stage', 'resumed'].includes(event.type)) {
      this.setStatus(text);
    } else if (event.type === AWAITING) {
      this.summary = { ...this.summary, status: AWAITING };
      this.reviewForm.show(event.data.storyboard);
      this.render();
    }
  }

  onStep(data) {
    this.steps.set(data.step, { ...this.steps.get(data.step), key: data.step, tool: data.tool, status: data.status,
      cached: Boolean(data.cached), duration_s: data.duration, error: data.error });
    this.renderSteps();
    this.setStatus(describe({ type: 'step', data }, this.summary?.kind === 'story'));
    if (data.status !== 'running' || !this.board) this.refreshSoon(); // the first step: the storyboard exists
  }

  onScore(event) {
    this.verdictEvents.push(event);
    this.renderVerdicts();
    this.refreshSoon(); // the scored asset may be newer than the run we have: its name comes with it
  }

  // Verdicts come from score events and revision stages; each is named after its step once known.
  renderVerdicts() {
    const lines = this.verdictEvents.map((event) => {
      if (event.type !== 'score') return h('li', {}, describe(event));
      const asset = this.summary?.assets?.find((a) => a.id === event.data.asset);
      return verdictLine(event, asset ? this.stepName(asset.role.split('.')[0]) : 'A new candidate');
    });
    replace(this.verdicts, lines.length ? lines : h('li', { class: 'hint' }, 'No verdicts yet.'));
  }

  stepName(key) { return stepLabel(key, this.summary?.kind === 'story'); }

  // --- the run's state ----------------------------------------------------------------------
  async refresh() {
    this.summary = await call(`/v1/runs/${encodeURIComponent(this.id)}`);
    for (const step of this.summary.steps) this.steps.set(step.key, step);
    const s = this.summary;
    // Under review the form is the storyboard; after an approve the board is read again once rendering began.
    const planned = s.plan && s.status !== AWAITING && (!this.boardStale || s.steps.length);
    if (s.kind === 'story' && (!this.board || this.boardStale) && (planned || TERMINAL.has(s.status))) {
      const board = await call(`/v1/runs/${encodeURIComponent(this.id)}/storyboard`).catch(() => null);
      if (board) Object.assign(this, { board, boardStale: false }).renderBoard();
    }
    this.render();
  }

  // Refreshes coalesce: while one is in flight, any number of requests make one more after it.
  refreshSoon() {
    this.dirty = true;
    this.loop ||= (async () => {
      while (this.dirty) {
        this.dirty = false;
        await this.refresh().catch(() => {});
      }
      this.loop = null;
    })();
    return this.loop;
  }

  label() { return this.board?.title || this.summary?.title || 'Run'; }

  setStatus(detail) {
    const s = this.summary;
    if (!s) return;
    const plan = s.plan?.steps || [];
    const done = plan.filter((p) => DONE.has(this.steps.get(p.id)?.status)).length;
    const counts = plan.length ? ` · ${done} of ${plan.length} steps` : '';
    replace(this.statusLine, badge(s.status, s.status.replace('_', ' ')), ` ${s.kind}${counts}${detail ? ` · ${detail}` : ''}`);
    if (plan.length) Object.assign(this.progress, { max: plan.length, value: TERMINAL.has(s.status) ? plan.length : done });
    else if (TERMINAL.has(s.status)) Object.assign(this.progress, { max: 1, value: 1 });
  }

  render() {
    const s = this.summary;
    this.title.textContent = this.label() === 'Run' ? s.request.slice(0, 120) : this.label();
    this.setStatus(s.error ? s.error : '');
    this.renderSteps();
    this.renderVerdicts();
    this.renderControls();
    this.placeAssets();
    if (s.status === AWAITING && !this.reviewForm.board) this.reviewForm.load().catch((err) => notify(err.message));
    if (s.status !== AWAITING) this.reviewForm.hide();
  }

  renderSteps() {
    const rows = [...this.steps.values()].map((st) => h('li', {}, h('span', {}, this.stepName(st.key)), badge(st.status),
      st.cached ? badge('cached') : null, st.status === 'failed' && st.error ? h('span', { class: 'error-text' }, st.error) : null));
    replace(this.stepList, rows.length ? rows : h('li', { class: 'hint' }, 'No steps yet.'));
  }

  renderControls() {
    const status = this.summary.status;
    const state = TERMINAL.has(status) ? status : status === AWAITING ? AWAITING : 'unfinished';
    if (this.controlsFor === state) return; // rebuilt only when they change, so focus stays put
    this.controlsFor = state;
    const buttons = [];
    if (!TERMINAL.has(status) && status !== AWAITING) buttons.push(h('button', { type: 'button', class: 'danger', onclick: (e) => this.cancel(e.currentTarget) }, 'Cancel run'));
    if ((status === 'failed' || status === 'cancelled') && this.onRetried) {
      buttons.push(h('button', { type: 'button', onclick: (e) => this.retry(e.currentTarget) }, 'Retry run'));
    }
    replace(this.controls, buttons);
  }

  renderBoard() {
    const b = this.board;
    const cast = b.characters.length ? h('p', { class: 'cast' }, h('strong', {}, 'Cast: '),
      b.characters.map((c) => `${c.name}, ${c.look}`).join('; ')) : null;
    const list = h('ol', { class: 'scenes' });
    for (const scene of b.scenes) {
      const card = this.scene(scene.number);
      card.setText(scene);
      list.append(card.el);
    }
    replace(this.boardPart, h('h3', {}, `Storyboard: ${b.title}`), cast, list);
    this.boardPart.hidden = false;
    this.title.textContent = b.title;
  }

  scene(number) {
    if (!this.scenes.has(number)) {
      this.scenes.set(number, new SceneCard(number, { onChange: (n) => this.onChangeScene?.(n),
        onDetails: (assetId) => openAsset(assetId, this.summary) }));
    }
    return this.scenes.get(number);
  }

  async placeAssets() {
    await this.visible;
    const chosen = this.summary.assets.filter((a) => a.selected !== false && a.kind !== 'document');
    const rounds = Object.fromEntries(this.summary.steps.map((st) => [st.key, st.rounds]));
    const extras = [];
    for (const asset of chosen) {
      const step = family(asset.role);
      const match = step.match(/^(image|speech)-(\d+)$/);
      if (this.board && match) {
        const card = this.scene(Number(match[2]));
        if (match[1] === 'image') card.setImage(asset); else card.setAudio(asset);
      } else if (!['video.video', 'video.subtitles'].includes(asset.role)) extras.push(asset);
    }
    for (const [number, card] of this.scenes) {
      const image = chosen.find((a) => a.role === `image-${number}.image`);
      const audio = chosen.find((a) => a.role === `speech-${number}.audio`);
      card.setScores(image, audio, rounds[`image-${number}`] || rounds[`speech-${number}`] || 0);
    }
    this.renderGallery(extras);
  }

  renderGallery(assets) {
    const known = new Set([...this.gallery.children].map((li) => li.dataset.assetId));
    for (const asset of assets.filter((a) => !known.has(a.id))) {
      const name = this.stepName(family(asset.role));
      const item = h('li', { dataset: { assetId: asset.id } }, h('p', {}, name),
        h('button', { type: 'button', onclick: () => openAsset(asset.id, this.summary) }, `Details of ${name}`));
      this.gallery.append(item);
      preview(asset).then((el) => el && item.prepend(el), () => {});
    }
    this.gallery.hidden = !this.gallery.children.length;
  }

  // --- the end ----------------------------------------------------------------------------
  // `live`: it ended while on screen (announce it); `streamed`: its end came over the stream, so the
  // session may have a new reply to show.
  async finish({ live, streamed }) {
    if (this.finished) return;
    this.finished = true;
    this.renderControls();
    const s = this.summary;
    for (const card of this.scenes.values()) card.change.hidden = !(s.status === 'succeeded' && this.onChangeScene);
    if (s.status === 'succeeded' && this.board) sceneControls(this);
    if (live) announce(`${this.label()}: ${s.status}${s.error ? `: ${s.error}` : ''}`);
    this.renderResult().catch((err) => replace(this.result, h('p', { class: 'error-text' }, err.message)));
    if (streamed) this.onFinished(this);
  }

  async renderResult() {
    await this.visible;
    replace(this.result, await resultParts(this.summary, { story: Boolean(this.board), title: this.label() }));
    this.result.hidden = false;
  }

  async cancel(button) {
    button.disabled = true;
    try {
      this.summary = { ...this.summary, ...(await call(`/v1/runs/${this.id}/cancel`, { method: 'POST' })) };
      this.setStatus('cancelling…');
      announce(`${this.label()}: cancelling`);
    } catch (err) { notify(err.message); button.disabled = false; }
  }

  reviewed(run, approved) { // approved: rendering starts, the board is read again; else it was cancelled
    Object.assign(this, { summary: { ...this.summary, ...run }, boardStale: approved && Boolean(this.board) });
    this.render();
  }

  async retry(button) {
    button.disabled = true;
    try {
      this.onRetried(await call(`/v1/runs/${this.id}/retry`, { method: 'POST' }));
    } catch (err) { notify(err.message); button.disabled = false; }
  }
}
