// The chat view: the key's sessions (new, rename, open) and one session's thread, each turn with
// its run live. The draft message is saved per session in this tab, so a reload or an error loses nothing.
import { call } from './api.js';
import { announce, h, notify, replace, reveal } from './dom.js';
import { castControl } from './castcontrol.js';
import { RunCard } from './runcard.js';

const draftKey = (sid) => `storyloom.draft.${sid || 'new'}`;

export async function chatView(root, sessionId) {
  const view = new ChatView(root, sessionId);
  await view.load();
  return view;
}

class ChatView {
  constructor(root, sessionId) {
    Object.assign(this, { root, sessionId, cards: [], shown: 0 });
    this.list = h('ul', {});
    this.sidebar = h('details', { class: 'sessions', open: matchMedia('(min-width: 50rem)').matches || !sessionId },
      h('summary', {}, 'Sessions'),
      h('button', { type: 'button', onclick: () => this.newSession() }, 'New session'), this.list);
    this.heading = h('h1', { id: 'thread-title', tabindex: '-1' }, 'New session');
    this.titleBar = h('div', { class: 'title-form' }, this.heading);
    this.thread = h('ol', { class: 'thread', 'aria-labelledby': 'thread-title' });
    this.input = h('textarea', { id: 'message', name: 'message', rows: 3, maxlength: 2000,
      'aria-describedby': 'message-hint', oninput: () => this.saveDraft(), onkeydown: (e) => this.onKey(e) });
    this.send = h('button', { type: 'submit', class: 'primary' }, 'Send');
    this.reviewFirst = h('input', { type: 'checkbox', id: 'review-first' });
    this.keepCast = castControl();
    this.form = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); this.submit(); } },
      h('label', { for: 'message' }, 'Message'), this.input,
      h('label', { class: 'check', for: 'review-first' }, this.reviewFirst, ' Review the storyboard before anything is drawn'),
      h('div', { class: 'row' }, this.send, h('span', { id: 'message-hint', class: 'hint' },
        'Enter sends, Shift+Enter starts a new line. Ask for “a bedtime story about a fox, three scenes”, then “in scene 2, …”.')),
      this.keepCast.element);
    replace(root, h('div', { class: 'chat' }, h('section', { 'aria-label': 'Sessions' }, this.sidebar),
      h('section', { 'aria-labelledby': 'thread-title' }, this.titleBar, this.thread, this.form)));
  }

  async load() {
    this.input.value = sessionStorage.getItem(draftKey(this.sessionId)) || '';
    let sessions = [];
    try {
      sessions = (await call('/v1/sessions?limit=200')).sessions;
    } catch (err) { notify(err.message); return; }
    if (!this.sessionId && sessions.length) {
      location.replace(`#/chat/${encodeURIComponent(sessions[0].id)}`); // the newest session
      return;
    }
    this.renderList(sessions);
    if (this.sessionId) await this.openSession();
    else this.renderTitle('New session');
  }

  stop() { for (const card of this.cards) card.stop(); }

  renderList(sessions) {
    replace(this.list, sessions.map((s) => h('li', {}, h('a', { href: `#/chat/${encodeURIComponent(s.id)}`,
      'aria-current': s.id === this.sessionId ? 'page' : false }, s.title || 'Untitled session'))));
    if (!sessions.length) this.list.append(h('li', { class: 'hint' }, 'No sessions yet: send a message to start one.'));
  }

  async openSession() {
    let session;
    try {
      session = await call(`/v1/sessions/${encodeURIComponent(this.sessionId)}`);
    } catch (err) {
      notify(err.status === 404 ? 'That session no longer exists (or belongs to another key). Pick another or start a new one.' : err.message);
      this.renderTitle('Session not found', false);
      this.form.hidden = true;
      return;
    }
    this.renderTitle(session.title || 'Untitled session');
    this.thread.replaceChildren();
    this.shown = 0;
    this.addMessages(session.messages);
    this.thread.lastElementChild && reveal(this.thread.lastElementChild);
  }

  addMessages(messages) {
    for (const message of messages.slice(this.shown)) {
      const who = message.role === 'user' ? 'You' : 'Storyloom';
      this.thread.append(h('li', { class: `msg ${message.role}` }, h('span', { class: 'who' }, who), h('p', {}, message.content)));
      if (message.role === 'user' && message.run_id) this.addRun(message.run_id);
    }
    this.shown = Math.max(this.shown, messages.length);
  }

  addRun(runId) {
    const card = new RunCard(runId, {
      onChangeScene: (n) => this.prefill(n),
      onRetried: (run) => this.afterSend(run),
      onFinished: () => this.refreshMessages(),
    });
    this.cards.push(card);
    this.thread.append(h('li', {}, card.el));
    return card.start();
  }

  async refreshMessages() {
    if (!this.sessionId) return;
    const session = await call(`/v1/sessions/${encodeURIComponent(this.sessionId)}`).catch(() => null);
    if (session) this.addMessages(session.messages); // the reply, and anything another tab added
  }

  renderTitle(title, renamable = Boolean(this.sessionId)) {
    this.heading.textContent = title;
    replace(this.titleBar, this.heading, renamable
      ? h('button', { type: 'button', class: 'link', onclick: () => this.rename(title) }, 'Rename session') : null);
  }

  rename(title) {
    const input = h('input', { id: 'session-title', value: title, maxlength: 500, required: true });
    const done = () => this.renderTitle(this.heading.textContent);
    replace(this.titleBar, h('form', { class: 'title-form', onsubmit: (e) => { e.preventDefault(); this.saveTitle(input.value); } },
      h('div', {}, h('label', { for: 'session-title' }, 'Session title'), input),
      h('button', { type: 'submit', class: 'primary' }, 'Save title'), h('button', { type: 'button', onclick: done }, 'Cancel')));
    input.focus();
    input.select();
  }

  async saveTitle(title) {
    try {
      const session = await call(`/v1/sessions/${encodeURIComponent(this.sessionId)}`, { method: 'PATCH', body: { title } });
      this.renderTitle(session.title);
      this.renderList((await call('/v1/sessions?limit=200')).sessions);
      announce(`Session renamed to ${session.title}`);
      this.heading.focus();
    } catch (err) { notify(err.message); }
  }

  async newSession() {
    try {
      const session = await call('/v1/sessions', { method: 'POST', body: {} });
      location.hash = `#/chat/${encodeURIComponent(session.id)}`;
    } catch (err) { notify(err.message); }
  }

  onKey(event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.form.requestSubmit();
    }
  }

  saveDraft() { sessionStorage.setItem(draftKey(this.sessionId), this.input.value); }

  prefill(number) {
    this.input.value = `In scene ${number}, `;
    this.saveDraft();
    this.input.focus();
    this.input.setSelectionRange(this.input.value.length, this.input.value.length);
    announce(`Message started for scene ${number}: say what to change, then send.`);
  }

  async submit() {
    const content = this.input.value.trim();
    if (!content || this.send.disabled) return;
    this.send.disabled = true;
    try {
      if (!this.sessionId) await this.startSession();
      const run = await call(`/v1/sessions/${encodeURIComponent(this.sessionId)}/messages`, { method: 'POST',
        body: { ...this.keepCast.body(content), review: this.reviewFirst.checked } });
      sessionStorage.removeItem(draftKey(this.sessionId));
      this.input.value = '';
      this.keepCast.reset();
      this.thread.append(h('li', { class: 'msg user' }, h('span', { class: 'who' }, 'You'), h('p', {}, content)));
      this.shown += 1;
      if (run.messages) this.addMessages(run.messages); // a pin message ("pin the style ..."): no run, the reply
      else await this.afterSend(run, false);
    } catch (err) {
      notify(err.message); // the draft stays in the box (and in this tab's storage)
    } finally {
      this.send.disabled = false;
    }
  }

  async startSession() {
    const session = await call('/v1/sessions', { method: 'POST', body: {} });
    sessionStorage.setItem(draftKey(session.id), this.input.value);
    sessionStorage.removeItem(draftKey(null));
    this.sessionId = session.id;
    history.replaceState(null, '', `#/chat/${encodeURIComponent(session.id)}`);
  }

  async afterSend(run, retried = true) {
    if (retried) {
      this.thread.append(h('li', { class: 'msg user' }, h('span', { class: 'who' }, 'You (retry)'), h('p', {}, run.request)));
      this.shown += 1;
    }
    const started = this.addRun(run.id);
    reveal(this.thread.lastElementChild);
    await started;
    if (this.heading.textContent === 'New session' || this.list.querySelector('.hint')) {
      const sessions = (await call('/v1/sessions?limit=200').catch(() => ({ sessions: [] }))).sessions;
      this.renderList(sessions);
      this.renderTitle(sessions.find((s) => s.id === this.sessionId)?.title || 'Untitled session');
    }
  }
}
