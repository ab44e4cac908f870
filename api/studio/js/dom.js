// Tiny DOM helpers. Text always goes in as text nodes (never innerHTML): titles, prompts and
// captions come from an LLM and from people, and must not become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'value') el.value = value;
    else if (name in el && typeof value !== 'string') el[name] = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const $ = (selector, root = document) => root.querySelector(selector);

let counter = 0;
export const uid = (prefix) => `${prefix}-${++counter}`;

// One polite live region for progress; it is re-filled, so each message is read once.
export function announce(text) {
  const live = $('#live');
  if (!live) return;
  live.textContent = '';
  requestAnimationFrame(() => { live.textContent = text; });
}

// One line at the top of the page for what went wrong (or right); role=alert reads it at once.
export function notify(text, kind = 'error') {
  const bar = $('#notice');
  replace(bar, h('p', {}, text), h('button', { type: 'button', class: 'link', onclick: clearNotice }, 'Dismiss'));
  bar.dataset.kind = kind;
  bar.hidden = false;
}

export function clearNotice() {
  const bar = $('#notice');
  bar.hidden = true;
  bar.replaceChildren();
}

export const reducedMotion = () => matchMedia('(prefers-reduced-motion: reduce)').matches;

export function reveal(el) {
  el.scrollIntoView({ block: 'nearest', behavior: reducedMotion() ? 'auto' : 'smooth' });
}

export function seconds(value) {
  return value === null || value === undefined ? '' : `${Number(value).toFixed(value < 10 ? 1 : 0)} s`;
}

export function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function badge(status, text = status) {
  return h('span', { class: `badge ${status}` }, text);
}
