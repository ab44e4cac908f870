// Lock and Redo on each finished scene of a story run (issue 14): a locked scene is kept by the
// critic, chat edits and redos; Redo makes a new run that remakes only that scene (a new seed).
// Real buttons with names; the lock is a toggle button (aria-pressed), its name never changes.
import { call } from './api.js';
import { announce, h, notify } from './dom.js';

const path = (card, number, action) =>
  `/v1/runs/${encodeURIComponent(card.id)}/scenes/${number}/${action}`;

export function sceneControls(card) {
  for (const scene of card.board?.scenes || []) {
    const box = card.scene(scene.number).el.querySelector('.controls');
    if (!box || box.querySelector('[data-scene-control]')) continue;
    const redo = h('button', { type: 'button', dataset: { sceneControl: 'redo' }, disabled: Boolean(scene.locked),
      onclick: () => redoScene(card, scene.number, redo) }, `Redo scene ${scene.number}`);
    const lock = h('button', { type: 'button', dataset: { sceneControl: 'lock' },
      'aria-pressed': String(Boolean(scene.locked)), onclick: () => toggleLock(card, scene.number, lock, redo) },
    `Lock scene ${scene.number}`);
    box.append(lock, redo);
  }
}

async function toggleLock(card, number, lock, redo) {
  const locking = lock.getAttribute('aria-pressed') !== 'true';
  lock.disabled = true;
  try {
    await call(path(card, number, locking ? 'lock' : 'unlock'), { method: 'POST' });
    lock.setAttribute('aria-pressed', String(locking));
    redo.disabled = locking;
    announce(`Scene ${number} ${locking ? 'locked' : 'unlocked'}`);
  } catch (err) { notify(err.message); }
  lock.disabled = false;
}

async function redoScene(card, number, redo) {
  redo.disabled = true;
  try {
    const run = await call(path(card, number, 'redo'), { method: 'POST', body: {} });
    announce(`Redoing scene ${number}`);
    // In a chat the redo is a new message of the session: refreshing the thread shows it with its run.
    if (run.session_id && card.onChangeScene) card.onFinished(card);
    else location.hash = `#/run/${encodeURIComponent(run.id)}`;
  } catch (err) { notify(err.message); }
  redo.disabled = false;
}
