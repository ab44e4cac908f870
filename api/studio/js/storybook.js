// The run's storybook.html with its pictures, narration and video: opened in a new tab through
// blob URLs (nothing carries the key), or downloaded as one self-contained file that opens anywhere.
import { assetBlob, assetURL, fileBlob } from './api.js';

async function build(runId, manifest, source) {
  const html = await (await fileBlob(runId, 'storybook.html')).text();
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const byPath = new Map(manifest.assets.map((a) => [a.path, a]));
  await Promise.all([...doc.querySelectorAll('[src]')].map(async (el) => {
    const asset = byPath.get(el.getAttribute('src'));
    if (asset) el.setAttribute('src', await source(asset.id));
    else el.removeAttribute('src');
  }));
  return doc;
}

const serialise = (doc) => `<!doctype html>\n${doc.documentElement.outerHTML}\n`;

export async function storybookURL(runId, manifest) {
  const doc = await build(runId, manifest, assetURL);
  // The page's content security policy allows no inline style: the book's style travels as a blob too.
  for (const style of doc.querySelectorAll('style')) {
    const link = doc.createElement('link');
    link.rel = 'stylesheet';
    link.href = URL.createObjectURL(new Blob([style.textContent], { type: 'text/css' }));
    style.replaceWith(link);
  }
  return URL.createObjectURL(new Blob([serialise(doc)], { type: 'text/html' }));
}

const dataURL = (blob) => new Promise((resolve, reject) => {
  const reader = new FileReader();
  reader.onload = () => resolve(reader.result);
  reader.onerror = () => reject(reader.error);
  reader.readAsDataURL(blob);
});

export async function storybookFile(runId, manifest) {
  const doc = await build(runId, manifest, async (id) => dataURL(await assetBlob(id)));
  return new Blob([serialise(doc)], { type: 'text/html' });
}
