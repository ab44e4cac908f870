// The brief form: goal, audience, style and a list of deliverables, sent to POST /v1/briefs.
// One Idempotency-Key per filled-in form: sending it twice (a double click, a retry after a lost
// answer) returns the same run instead of starting another.
import { call } from './api.js';
import { h, notify, replace, uid } from './dom.js';

const KINDS = {
  image: [['prompt', 'Prompt', 'text'], ['width', 'Width (px)', 'number', 512], ['height', 'Height (px)', 'number', 512],
    ['count', 'Variations', 'number', 1]],
  video: [['prompt', 'Prompt', 'text'], ['seconds', 'Seconds', 'number', 2], ['from_image', 'Animate deliverable number', 'number']],
  narration: [['text', 'Text to speak', 'text'], ['max_seconds', 'Fit in seconds', 'number']],
  caption: [['of', 'Describe deliverable number', 'number', 1]],
  story: [['prompt', 'What the story is about', 'text'], ['scenes', 'Scenes', 'number', 3]],
};
const DRAFT = 'storyloom.draft.brief';

export async function briefView(root) {
  const list = h('ol', {});
  const add = h('select', { id: 'add-kind' }, Object.keys(KINDS).map((k) => h('option', { value: k }, k)));
  const fields = {
    goal: h('textarea', { id: 'goal', required: true, rows: 2, maxlength: 1000 }),
    audience: h('input', { id: 'audience', maxlength: 300 }),
    style: h('input', { id: 'style', maxlength: 300 }),
  };
  const form = h('form', { class: 'card', onsubmit: (e) => { e.preventDefault(); submit(form, fields, list); },
    oninput: () => sessionStorage.setItem(DRAFT, JSON.stringify(collect(fields, list))) },
  h('h1', { tabindex: '-1' }, 'Content brief'),
  h('p', { class: 'hint' }, 'What another system would send to POST /v1/briefs. Deliverables are numbered from 1; a video or caption can refer to an earlier one by its number.'),
  h('label', { for: 'goal' }, 'Goal'), fields.goal,
  h('div', { class: 'fields' }, h('div', {}, h('label', { for: 'audience' }, 'Audience'), fields.audience),
    h('div', {}, h('label', { for: 'style' }, 'Style'), fields.style)),
  h('h2', {}, 'Deliverables'), list,
  h('div', { class: 'row' }, h('label', { for: 'add-kind' }, 'Kind'), add,
    h('button', { type: 'button', onclick: () => list.append(deliverable(add.value, {}, list)) }, 'Add deliverable')),
  h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Submit brief')));
  replace(root, form);
  restore(fields, list);
  return { stop() {} };
}

function deliverable(kind, values, list) {
  const legend = h('legend', {});
  const inputs = KINDS[kind].map(([name, label, type, fallback]) => {
    const id = uid('d');
    const input = h('input', { id, name, type, value: values[name] ?? fallback ?? '', min: type === 'number' ? 0 : null,
      step: name.includes('seconds') ? 'any' : null });
    return h('div', {}, h('label', { for: id }, label), input);
  });
  const remove = h('button', { type: 'button', onclick: () => { item.remove(); renumber(list); } }, 'Remove');
  const item = h('li', { dataset: { kind } }, h('fieldset', {}, legend, h('div', { class: 'fields' }, inputs), remove));
  queueMicrotask(() => renumber(list));
  return item;
}

function renumber(list) {
  [...list.children].forEach((li, i) => {
    li.querySelector('legend').textContent = `Deliverable ${i + 1}: ${li.dataset.kind}`;
    li.querySelector('button').textContent = `Remove deliverable ${i + 1}`;
  });
}

function collect(fields, list) {
  const deliverables = [...list.children].map((li) => {
    const item = { kind: li.dataset.kind };
    for (const input of li.querySelectorAll('input')) {
      if (input.value === '') continue;
      item[input.name] = input.type === 'number' ? Number(input.value) : input.value;
    }
    // People count from 1; the API's references are 0-based positions.
    for (const ref of ['of', 'from_image']) if (ref in item) item[ref] -= 1;
    return item;
  });
  const brief = { goal: fields.goal.value.trim(), deliverables };
  for (const name of ['audience', 'style']) if (fields[name].value.trim()) brief[name] = fields[name].value.trim();
  return brief;
}

function restore(fields, list) {
  let saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(DRAFT)); } catch { /* a broken draft is dropped */ }
  for (const name of Object.keys(fields)) fields[name].value = saved?.[name] || '';
  for (const item of saved?.deliverables?.length ? saved.deliverables : [{ kind: 'image' }]) {
    const values = { ...item };
    for (const ref of ['of', 'from_image']) if (ref in values) values[ref] += 1;
    if (KINDS[item.kind]) list.append(deliverable(item.kind, values, list));
  }
}

let idempotency = { body: null, key: null };
// crypto.randomUUID needs a secure context; a server on a LAN address over http is not one.
const randomKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

async function submit(form, fields, list) {
  const brief = collect(fields, list);
  const body = JSON.stringify(brief);
  if (idempotency.body !== body) idempotency = { body, key: randomKey() };
  const button = form.querySelector('[type=submit]');
  button.disabled = true;
  try {
    const run = await call('/v1/briefs', { method: 'POST', body: brief, headers: { 'Idempotency-Key': idempotency.key } });
    sessionStorage.removeItem(DRAFT);
    location.hash = `#/run/${encodeURIComponent(run.id)}`;
  } catch (err) {
    notify(err.message);
  } finally {
    button.disabled = false;
  }
}
