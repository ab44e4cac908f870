// The visible parts of a story run: one card per scene (picture, narration, critic scores, a
// "Change scene N" control) and the finished video with captions on.
import { assetURL } from './api.js';
import { badge, h, replace } from './dom.js';
import { metricName, metricValue } from './words.js';

export class SceneCard {
  constructor(number, { onChange, onDetails }) {
    this.number = number;
    this.alt = '';
    this.image = h('div', { class: 'placeholder' }, `Scene ${number} picture: not made yet`);
    this.figure = h('figure', {}, this.image);
    this.narration = h('p', {});
    this.audio = h('div', {});
    this.scores = h('p', { class: 'hint' });
    this.change = h('button', { type: 'button', hidden: true, onclick: () => onChange(number) }, `Change scene ${number}`);
    this.details = h('button', { type: 'button', hidden: true, onclick: () => onDetails(this.imageId) },
      `Details of scene ${number} picture`);
    this.el = h('li', { class: 'scene', dataset: { scene: number } }, h('h4', {}, `Scene ${number}`), this.figure,
      this.narration, this.audio, this.scores, h('div', { class: 'controls' }, this.change, this.details));
  }

  setText(scene) {
    this.alt = scene.picture;
    this.narration.textContent = scene.narration;
    if (this.image.tagName === 'IMG') this.image.alt = scene.picture;
  }

  async setImage(asset) {
    if (this.imageId === asset.id) return;
    this.imageId = asset.id;
    this.details.hidden = false;
    const url = await assetURL(asset.id).catch(() => null);
    if (this.imageId !== asset.id) return; // a newer candidate won meanwhile
    if (!url) { this.imageId = null; return; } // fetched again with the next update
    const img = h('img', { src: url, alt: this.alt || asset.intent || `Scene ${this.number}`, width: 256, height: 256 });
    this.image.replaceWith(img);
    this.image = img;
  }

  async setAudio(asset) {
    if (this.audioId === asset.id) return;
    this.audioId = asset.id;
    const url = await assetURL(asset.id).catch(() => null);
    if (this.audioId !== asset.id) return;
    if (!url) { this.audioId = null; return; }
    replace(this.audio, h('audio', { controls: true, preload: 'metadata', src: url,
      'aria-label': `Narration of scene ${this.number}` }));
  }

  setScores(image, audio, rounds) {
    const parts = [];
    for (const [metric, value] of Object.entries({ ...(image?.scores || {}), ...(audio?.scores || {}) })) {
      if (metric === 'clip_gate') continue;
      parts.push(`${metricName(metric)} ${metricValue(metric, value)}`);
    }
    if (rounds) parts.push(`${rounds} revision round${rounds === 1 ? '' : 's'}`);
    this.scores.textContent = parts.join(' · ');
  }
}

// The story video: captions from the run's WebVTT, shown by default.
export async function videoPlayer(video, subtitles, title) {
  const [src, track] = await Promise.all([assetURL(video.id), subtitles ? assetURL(subtitles.id) : null]);
  const player = h('video', { controls: true, playsinline: true, preload: 'auto', src,
    'aria-label': `Story video: ${title}` });
  if (track) {
    const el = h('track', { kind: 'captions', srclang: 'en', label: 'English', src: track, default: true });
    player.append(el);
    // `default` shows the first track; set it explicitly too, so captions are on whatever the browser decides.
    el.addEventListener('load', () => { el.track.mode = 'showing'; });
    el.track.mode = 'showing';
  }
  return player;
}

export function verdictLine(event, label) {
  const d = event.data;
  return h('li', {}, `${label}: ${metricName(d.metric)} ${metricValue(d.metric, d.value)} `,
    d.passed ? badge('passed') : badge('not-passed', 'not passed'));
}

// Any other asset of a run (a brief's pictures, clips, voice-overs, captions): a preview by kind.
export async function preview(asset) {
  const alt = asset.intent || asset.role;
  if (asset.kind === 'image') return h('img', { src: await assetURL(asset.id), alt });
  if (asset.kind === 'audio') return h('audio', { controls: true, src: await assetURL(asset.id), 'aria-label': alt });
  if (asset.kind === 'video') return h('video', { controls: true, src: await assetURL(asset.id), 'aria-label': alt });
  return asset.intent ? h('p', {}, asset.intent) : null;
}
