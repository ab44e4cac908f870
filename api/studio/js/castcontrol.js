// The composer's "keep the characters" control (issue 15): a labelled checkbox; when ticked, the next
// turn is sent with save_cast, so the story's characters go to the key's cast bank once it succeeds.
import { h } from './dom.js';

export function castControl() {
  const box = h('input', { type: 'checkbox', id: 'save-cast', name: 'save_cast', 'aria-describedby': 'save-cast-hint' });
  const element = h('div', { class: 'row save-cast' },
    box, h('label', { for: 'save-cast' }, 'Keep this story’s characters for later'),
    h('span', { id: 'save-cast-hint', class: 'hint' }, 'Later stories that name them reuse their look, voice and first picture.'));
  return {
    element,
    body(content) { return box.checked ? { content, save_cast: true } : { content }; },
    reset() { box.checked = false; },
  };
}
