// The end of a run: the video with captions on, the downloads (MP4, VTT, a self-contained
// storybook, the manifest) and "Open storybook". Files come from GET /v1/runs/{id}/files/{name}.
import { fileBlob, saveBlob } from './api.js';
import { h, notify } from './dom.js';
import { videoPlayer } from './scenes.js';
import { storybookFile, storybookURL } from './storybook.js';

const WANTED = [['story.mp4', 'Video (MP4)'], ['story.vtt', 'Captions (VTT)'], ['storybook.html', 'Storybook (HTML)'],
  ['manifest.json', 'Manifest (JSON)']];

export async function resultParts(run, { story, title }) {
  const manifest = await fileBlob(run.id, 'manifest.json').then((b) => b.text()).then(JSON.parse).catch(() => null);
  const parts = [h('h3', {}, run.status === 'succeeded' ? 'Result' : 'What was kept')];
  if (run.error) parts.push(h('p', { class: 'error-text' }, run.error));
  const video = run.assets.find((a) => a.role === 'video.video' && a.selected);
  const captions = run.assets.find((a) => a.role === 'video.subtitles' && a.selected);
  if (video) parts.push(await videoPlayer(video, captions, title));
  if (manifest) parts.push(downloads(run, manifest, story && run.status === 'succeeded'));
  return parts;
}

function downloads(run, manifest, book) {
  const listed = new Set(manifest.assets.map((a) => a.path).concat('manifest.json'));
  if (book) listed.add('storybook.html');
  const list = h('ul', { class: 'downloads', 'aria-label': 'Downloads' });
  for (const [name, text] of WANTED.filter(([file]) => listed.has(file))) {
    list.append(h('li', {}, h('button', { type: 'button', onclick: (e) => download(e.currentTarget, run.id, name, manifest) },
      `Download ${text}`)));
  }
  if (book) list.append(h('li', {}, h('button', { type: 'button', onclick: () => openBook(run.id, manifest) }, 'Open storybook')));
  return list;
}

async function download(button, runId, name, manifest) {
  button.disabled = true;
  try {
    saveBlob(name === 'storybook.html' ? await storybookFile(runId, manifest) : await fileBlob(runId, name), name);
  } catch (err) { notify(err.message); } finally { button.disabled = false; }
}

async function openBook(runId, manifest) {
  const tab = window.open('', '_blank'); // opened now, while the click still counts as one
  if (!tab) { notify('The browser blocked the new tab: allow pop-ups for this page, or download the storybook.'); return; }
  try {
    tab.location.href = await storybookURL(runId, manifest);
  } catch (err) { tab.close(); notify(err.message); }
}
