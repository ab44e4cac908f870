// Storyloom Studio: sign-in, the views (hash routes) and what every view shares.
import { auth, call, signals } from './api.js';
import { $, announce, clearNotice, h, notify, replace } from './dom.js';
import { chatView } from './chat.js';
import { runsView, runView } from './runs.js';
import { briefView } from './brief.js';
import { narrateView } from './narrate.js';

const views = { chat: chatView, runs: runsView, run: runView, brief: briefView, narrate: narrateView };
let current = null; // { stop() } of the view on screen

function route() {
  const [name = 'chat', ...rest] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return { name: views[name] ? name : 'chat', arg: rest.join('/') || null };
}

async function show() {
  current?.stop?.();
  current = null;
  const view = $('#view');
  if (!auth.key) {
    setNav(null);
    signInView(view);
    return;
  }
  const { name, arg } = route();
  setNav(name);
  view.replaceChildren();
  current = await views[name](view, arg);
}

function setNav(active) {
  const nav = $('#views');
  nav.hidden = !active;
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.view === active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function signInView(view) {
  const input = h('input', { id: 'key', name: 'key', type: 'text', autocomplete: 'off', spellcheck: 'false',
    class: 'secret', required: true, 'aria-describedby': 'key-help' });
  const form = h('form', { class: 'card signin', onsubmit: (event) => signIn(event, input) },
    h('h1', {}, 'Sign in to Storyloom Studio'),
    h('label', { for: 'key' }, 'API key'),
    input,
    h('p', { id: 'key-help', class: 'hint' }, 'Paste a key made with ', h('code', {}, 'storyloom keys create NAME'),
      '. It is kept in this browser tab only and sent to this server alone.'),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  replace(view, form);
  input.focus();
}

async function signIn(event, input) {
  event.preventDefault();
  const key = input.value.trim();
  if (!key) return;
  auth.set(key);
  try {
    await call('/v1/sessions?limit=1');
  } catch (err) {
    auth.clear();
    notify(err.status === 401 ? 'That key was not accepted: it is unknown or revoked. Check it and try again.'
      : err.message);
    input.focus();
    return;
  }
  clearNotice();
  announce('Signed in');
  show();
}

signals.addEventListener('unauthorized', () => {
  if (!auth.key) return;
  auth.clear(); // drafts stay: they are saved per session, not with the key
  notify('The server no longer accepts this key. Sign in again; your drafts are kept.');
  show();
});

$('#sign-out').addEventListener('click', () => {
  auth.clear();
  clearNotice();
  announce('Signed out');
  show();
});

addEventListener('hashchange', () => { clearNotice(); show().then(() => $('#main').focus({ preventScroll: true })); });
show();
