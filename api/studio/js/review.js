// Review before rendering: a run asked with review waits after planning (status awaiting_review).
// Its storyboard shows here as labelled fields (title, style, each scene's narration and picture
// prompt, a lock per scene); Approve saves the edits (PATCH /v1/runs/{id}/storyboard) and continues the
// run (POST /v1/runs/{id}/approve), Cancel ends it. Nothing is rendered before Approve.
import { call } from './api.js';
import { announce, h, notify, replace, uid } from './dom.js';

export const AWAITING = 'awaiting_review';

function field(label, control) {
  const id = uid('review');
  control.id = id;
  return [h('label', { for: id }, label), control];
}

export class ReviewForm {
  constructor(runId, { onDone = () => {} } = {}) {
    Object.assign(this, { runId, onDone });
    this.el = h('section', { class: 'review', hidden: true });
  }

  async load() {
    const answer = await call(`/v1/runs/${encodeURIComponent(this.runId)}/review`);
    this.show(answer.storyboard);
  }

  show(board) {
    if (this.board) return; // built once, so what the reader typed stays
    this.board = board;
    const headingId = uid('review-title');
    this.title = h('input', { type: 'text', value: board.title, maxlength: 120, required: true });
    this.style = h('input', { type: 'text', value: board.style || '', maxlength: 200 });
    this.scenes = board.scenes.map((scene) => this.sceneFields(scene));
    this.approveButton = h('button', { type: 'submit' }, 'Approve storyboard');
    const form = h('form', { onsubmit: (e) => { e.preventDefault(); this.approve(); } },
      field('Title', this.title), field('Style of every picture', this.style),
      this.scenes.map((s) => s.el),
      h('div', { class: 'controls' }, this.approveButton,
        h('button', { type: 'button', class: 'danger', onclick: (e) => this.cancel(e.currentTarget) }, 'Cancel run')));
    replace(this.el, h('h3', { id: headingId }, 'Review the storyboard'),
      h('p', { class: 'hint' }, 'Nothing is drawn or narrated until you approve. A locked scene keeps its text.'), form);
    this.el.setAttribute('aria-labelledby', headingId);
    this.el.hidden = false;
  }

  sceneFields(scene) {
    const narration = h('textarea', { rows: 3, maxlength: 1000, required: true }, scene.narration);
    const picture = h('textarea', { rows: 2, maxlength: 300, required: true }, scene.picture);
    const locked = h('input', { type: 'checkbox', checked: Boolean(scene.locked) });
    const el = h('fieldset', { class: 'review-scene' }, h('legend', {}, `Scene ${scene.number}`),
      field('Narration', narration), field('Picture prompt', picture),
      h('label', { class: 'check' }, locked, ` Lock scene ${scene.number}`));
    return { number: scene.number, narration, picture, locked, el };
  }

  edits() {
    const scenes = this.scenes.map((s) => ({ number: s.number, narration: s.narration.value, picture: s.picture.value,
      locked: s.locked.checked }));
    return { title: this.title.value, style: this.style.value, scenes };
  }

  async approve() {
    this.approveButton.disabled = true;
    const id = encodeURIComponent(this.runId);
    try {
      await call(`/v1/runs/${id}/storyboard`, { method: 'PATCH', body: this.edits() });
      const run = await call(`/v1/runs/${id}/approve`, { method: 'POST' });
      this.hide();
      announce('Storyboard approved; rendering');
      this.onDone(run, true);
    } catch (err) { notify(err.message); this.approveButton.disabled = false; }
  }

  async cancel(button) {
    button.disabled = true;
    try {
      const run = await call(`/v1/runs/${encodeURIComponent(this.runId)}/cancel`, { method: 'POST' });
      this.hide();
      announce('Run cancelled');
      this.onDone(run, false);
    } catch (err) { notify(err.message); button.disabled = false; }
  }

  hide() { this.el.hidden = true; }
}
